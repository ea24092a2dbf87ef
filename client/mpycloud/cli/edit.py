"""``mpycloud rm`` and ``mpycloud tag``: batch changes, a result for every id."""

from __future__ import annotations

import argparse
from typing import Any

from rich.table import Table

from mpycloud.cli.common import (
    context,
    err,
    ids_command,
    out,
    print_json,
    read_ids,
    split_tags,
)
from mpycloud.models import BatchResult


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    rm = ids_command(commands, common, "rm", "delete images (batch)")
    rm.add_argument("--json", action="store_true")
    rm.set_defaults(run=run_rm)

    tag = ids_command(commands, common, "tag", "add and remove tags (batch)")
    tag.add_argument("--add", action="append", default=[], metavar="TAGS", help="a,b")
    tag.add_argument("--remove", action="append", default=[], metavar="TAGS", help="a,b")
    tag.add_argument("--json", action="store_true")
    tag.set_defaults(run=run_tag)


def run_rm(args: argparse.Namespace) -> int:
    with context(args).client() as client:
        results = client.delete_images(read_ids(args.ids))
    return _report([("delete", result) for result in results], args.json)


def run_tag(args: argparse.Namespace) -> int:
    added, removed = split_tags(args.add), split_tags(args.remove)
    if not added and not removed:
        err.print("give --add or --remove (or both)")
        return 2
    ids = read_ids(args.ids)
    results: list[tuple[str, BatchResult]] = []
    with context(args).client() as client:
        if added:
            results += [("add " + ",".join(added), r) for r in client.add_tags(ids, added)]
        if removed:
            results += [
                ("remove " + ",".join(removed), r) for r in client.remove_tags(ids, removed)
            ]
    return _report(results, args.json)


def _report(results: list[tuple[str, BatchResult]], as_json: bool) -> int:
    if as_json:
        print_json([{"action": action} | vars(result) for action, result in results])
    else:
        table = Table(show_edge=False)
        for name in ("id", "action", "result", "message"):
            table.add_column(name)
        for action, result in results:
            style = "" if result.ok else "red"
            table.add_row(result.image_id, action, result.result, result.message or "", style=style)
        out.print(table)
    return 0 if all(result.ok for _, result in results) else 1
