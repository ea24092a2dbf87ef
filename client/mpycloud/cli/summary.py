"""The end of ``mpycloud upload``: how many files were uploaded, duplicates, failed and why."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from mpycloud.cli.common import counted, human_bytes, out, print_json

RESULTS = ("uploaded", "duplicate", "failed")


def totals(outcomes: list[dict[str, Any]], elapsed: float) -> dict[str, Any]:
    counts = {result: sum(o["result"] == result for o in outcomes) for result in RESULTS}
    sent = sum(o["sent_bytes"] for o in outcomes)
    seconds = max(elapsed, 1e-9)
    return {
        "uploaded": counts["uploaded"],
        "duplicates": counts["duplicate"],
        "failed": counts["failed"],
        "skipped_unsent": sum(o["route"] == "skipped" for o in outcomes),
        "bytes_sent": sent,
        "elapsed_seconds": round(elapsed, 3),
        "files_per_second": round(len(outcomes) / seconds, 2),
        "bytes_per_second": round(sent / seconds),
    }


def print_summary(outcomes: list[dict[str, Any]], elapsed: float, *, as_json: bool) -> None:
    figures = totals(outcomes, elapsed)
    if as_json:
        print_json(figures | {"files": outcomes})
        return
    table = Table(title="Upload summary")
    table.add_column("Result")
    table.add_column("Files", justify="right")
    table.add_column("Bytes", justify="right")
    for result, label in zip(RESULTS, ("uploaded", "duplicates", "failed"), strict=True):
        chosen = [o for o in outcomes if o["result"] == result]
        table.add_row(label, str(len(chosen)), human_bytes(sum(o["size"] for o in chosen)))
    out.print(table)
    skipped = figures["skipped_unsent"]
    if skipped:
        verb = "was" if skipped == 1 else "were"
        out.print(f"{counted(skipped, 'duplicate')} {verb} already on the server: not sent")
    failed = [o for o in outcomes if o["result"] == "failed"]
    if failed:
        reasons = Table(title="Failed", show_lines=False)
        reasons.add_column("File", overflow="fold")
        reasons.add_column("Why", overflow="fold")
        for outcome in failed:
            reasons.add_row(outcome["path"], outcome["reason"] or "")
        out.print(reasons)
    rate = f"{figures['files_per_second']:.1f} files/s"
    sent = f"{human_bytes(figures['bytes_per_second'])}/s sent"
    out.print(f"{counted(len(outcomes), 'file')} in {elapsed:.1f} s: {rate}, {sent}")
