"""``mpycloud ls``, ``get``, ``similar`` and ``download``."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text

from mpycloud.cli.common import (
    context,
    describe,
    err,
    human_bytes,
    ids_command,
    out,
    print_json,
    read_ids,
    split_tags,
)
from mpycloud.cli.parallel import run_in_threads
from mpycloud.cli.progress import TransferBars
from mpycloud.client import Client
from mpycloud.errors import MpycloudError
from mpycloud.models import Image

MAX_PAGE = 100


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    ls = commands.add_parser("ls", parents=[common], help="list images, newest first")
    ls.add_argument("--user", dest="user_id", help="only this user's images")
    ls.add_argument("--tag", dest="tags", action="append", default=[], help="a,b: all of them")
    ls.add_argument("--content-type", help="image/jpeg, image/png, image/webp, image/heic...")
    for bound in ("date-from", "date-to", "taken-from", "taken-to"):
        ls.add_argument(
            f"--{bound}", metavar="ISO-DATE", help=f"the API's {bound.replace('-', '_')}"
        )
    ls.add_argument("--limit", type=int, default=20, help="images to show (default 20)")
    ls.add_argument("--all", action="store_true", help="every image the filters match")
    ls.add_argument("--cursor", help="go on from a previous listing's next cursor")
    ls.add_argument("--json", action="store_true", help='{"items": [...], "next_cursor": ...}')
    ls.add_argument("--ids-only", action="store_true", help="one image id a line")
    ls.set_defaults(run=run_ls)

    get = ids_command(commands, common, "get", "images' metadata")
    get.add_argument("--json", action="store_true")
    get.set_defaults(run=run_get)

    similar = commands.add_parser(
        "similar", parents=[common], help="your images that look like one (resized, re-encoded)"
    )
    similar.add_argument("image_id", metavar="IMAGE_ID")
    similar.add_argument("--json", action="store_true", help='{"items": [{"distance", "image"}]}')
    similar.add_argument("--ids-only", action="store_true", help="one image id a line")
    similar.set_defaults(run=run_similar)

    download = ids_command(commands, common, "download", "download originals")
    download.add_argument("-o", "--output", type=Path, default=Path("."), help="folder")
    download.add_argument("-j", "--jobs", type=int, default=4)
    download.add_argument("--no-progress", action="store_true")
    download.set_defaults(run=run_download)


def run_ls(args: argparse.Namespace) -> int:
    filters = {
        "user_id": args.user_id,
        "tags": split_tags(args.tags),
        "content_type": args.content_type,
        "date_from": args.date_from,
        "date_to": args.date_to,
        "taken_from": args.taken_from,
        "taken_to": args.taken_to,
    }
    with context(args).client() as client:
        images, cursor = _collect_pages(
            client, filters, args.cursor, None if args.all else args.limit
        )
    if args.json:
        print_json({"items": [image.raw for image in images], "next_cursor": cursor})
    elif args.ids_only:
        for image in images:
            print(image.image_id)
    elif out.is_terminal:
        out.print(image_table(images))
        if cursor:
            out.print(f"more: mpycloud ls ... --cursor {cursor}")
    else:  # piped: whole values, tab-separated, for cut and awk
        for image in images:
            print("\t".join(_table_row(image, short=False)))
    return 0


def _collect_pages(
    client: Client, filters: dict[str, Any], cursor: str | None, wanted: int | None
) -> tuple[list[Image], str | None]:
    """Whole pages until ``wanted`` images (pages may be short): the cursor left is exact."""
    images: list[Image] = []
    while wanted is None or len(images) < wanted:
        size = MAX_PAGE if wanted is None else min(MAX_PAGE, wanted - len(images))
        page = client.list_images(**filters, limit=size, cursor=cursor)
        images.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    return images, cursor


def image_table(images: list[Image], distances: Sequence[int] | None = None) -> Table:
    """One row an image; ``distances``, one an image, make a first column."""
    table = Table(show_edge=False)
    if distances is not None:
        table.add_column("distance", no_wrap=True, justify="right")
    for name in ("id", "user", "created", "size", "pixels"):
        table.add_column(name, no_wrap=True, min_width=26 if name == "id" else None)
    for name in ("tags", "file"):
        table.add_column(name, no_wrap=True, overflow="ellipsis", min_width=6)
    for n, image in enumerate(images):
        first = [] if distances is None else [str(distances[n])]
        table.add_row(*first, *_table_row(image, short=True))
    return table


def _table_row(image: Image, *, short: bool) -> list[str]:
    created = image.created_at.astimezone() if image.created_at else None
    return [
        image.image_id,
        image.user_id,
        "" if created is None else f"{created:%m-%d %H:%M}" if short else created.isoformat(),
        human_bytes(image.size_bytes) if short else str(image.size_bytes),
        f"{image.width}x{image.height}",
        ",".join(image.tags),
        image.original_filename,
    ]


def run_get(args: argparse.Namespace) -> int:
    ids = read_ids(args.ids)
    with context(args).client() as client:
        images = [client.get_image(ids[0])] if len(ids) == 1 else client.get_images(ids)
    missing = sorted(set(ids) - {image.image_id for image in images})
    if args.json:
        raw = [image.raw for image in images]
        print_json(raw[0] if len(ids) == 1 else raw)
    else:
        for image in images:
            table = Table(title=image.image_id, show_header=False, show_edge=False)
            for key, value in image.raw.items():
                table.add_row(key, Text(readable(value)))  # Text: no rich markup in values
            out.print(table)
    for image_id in missing:
        err.print(f"not found: {image_id}")
    return 1 if missing else 0


def run_similar(args: argparse.Namespace) -> int:
    """As ``ls`` prints its images, nearest first, each with its distance."""
    with context(args).client() as client:
        found = client.similar(args.image_id)
    if args.json:
        items = [{"distance": near.distance, "image": near.image.raw} for near in found]
        print_json({"items": items})
    elif args.ids_only:
        for near in found:
            print(near.image.image_id)
    elif out.is_terminal:
        if found:
            distances = [near.distance for near in found]
            out.print(image_table([near.image for near in found], distances))
        else:
            out.print("no similar images (or the service has not hashed this one yet)")
    else:  # piped: the distance, then the image's whole values, tab-separated
        for near in found:
            print("\t".join([str(near.distance), *_table_row(near.image, short=False)]))
    return 0


def readable(value: Any) -> str:
    """A JSON value for a table cell: text as it is, a list of texts comma-separated, nothing
    for null or empty, anything else as compact JSON."""
    if value is None or value in ("", [], {}):
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return ", ".join(value)
    return json.dumps(value, ensure_ascii=False)


def run_download(args: argparse.Namespace) -> int:
    ids = read_ids(args.ids)
    args.output.mkdir(parents=True, exist_ok=True)
    with (
        context(args).client() as client,
        TransferBars(err, len(ids), 0, enabled=err.is_terminal and not args.no_progress) as bars,
    ):

        def fetch(image_id: str) -> Path | MpycloudError | OSError:
            task = bars.start_file(image_id, 0)
            try:
                return client.download(
                    image_id,
                    args.output,
                    progress=lambda done, total: bars.report(task, done, total),
                )
            except (MpycloudError, OSError) as error:
                return error
            finally:
                bars.finish_file(task)

        outcomes = run_in_threads(fetch, ids, args.jobs)
    for image_id, outcome in zip(ids, outcomes, strict=True):
        if isinstance(outcome, Path):
            print(f"{image_id} -> {outcome}")  # plain: a path is data, not rich markup
        else:
            err.print(f"{image_id}: {describe(outcome)}")
    return 0 if all(isinstance(outcome, Path) for outcome in outcomes) else 1
