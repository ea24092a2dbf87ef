"""``mpycloud upload PATH...``: files and folders, in parallel, skipping what the server has.

A file sent through an upload session is processed by the service after its bytes are in: the
command waits for the outcome, saying so on standard error.
"""

from __future__ import annotations

import argparse
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from mpycloud.cli.common import context, describe, err, split_tags
from mpycloud.cli.parallel import run_in_threads
from mpycloud.cli.progress import TransferBars
from mpycloud.cli.summary import print_summary
from mpycloud.client import Client
from mpycloud.errors import MpycloudError, UploadStillProcessing
from mpycloud.files import sha256_file, walk
from mpycloud.models import UploadStatus
from mpycloud.upload_session_endpoints import PROCESSING_TIMEOUT, Waiting

Result = Literal["uploaded", "duplicate", "failed"]
NOTE_EVERY = 30.0  # seconds between two lines about one file still processing


@dataclass(frozen=True)
class Outcome:
    path: str
    result: Result
    size: int
    sent_bytes: int = 0
    image_id: str | None = None
    route: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class UploadFields:
    description: str
    tags: list[str]
    metadata: dict[str, Any]
    user_id: str | None


@dataclass(frozen=True)
class Display:
    bars: TransferBars
    notes: bool  # a line on standard error while a file is processed


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    upload = commands.add_parser(
        "upload",
        parents=[common],
        help="upload files and folders (image files under them), skipping duplicates",
    )
    upload.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    upload.add_argument("--tags", action="append", default=[], help="a,b (repeatable)")
    upload.add_argument("--description", default="")
    upload.add_argument(
        "--field", action="append", default=[], metavar="NAME=VALUE", help="a custom field"
    )
    upload.add_argument("-j", "--jobs", type=int, default=4, help="files at a time (default 4)")
    upload.add_argument("--user", help="the owner, for a service without sign-in")
    upload.add_argument("--json", action="store_true", help="print the summary as JSON")
    upload.add_argument(
        "--no-progress", action="store_true", help="no progress bars, no processing lines"
    )
    upload.add_argument(
        "--processing-timeout",
        type=float,
        default=PROCESSING_TIMEOUT,
        metavar="SECONDS",
        help="how long to wait for the service to process a file sent through an upload"
        f" session (default {PROCESSING_TIMEOUT:.0f})",
    )
    upload.add_argument(
        "--send-all",
        action="store_true",
        help="do not list your images first (one request per 100 of them) to skip known files;"
        " the service still answers a duplicate for bytes you already have",
    )
    upload.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    custom = dict(item.partition("=")[::2] for item in args.field)
    fields = UploadFields(args.description, split_tags(args.tags), custom, args.user)
    files = list(walk(args.paths))
    if not files:
        err.print("no image files found (JPEG, PNG, GIF, WebP, HEIC, HEIF, AVIF)")
        return 1
    ctx = context(args)
    jobs = max(1, args.jobs)
    started = time.monotonic()
    show = err.is_terminal and not args.no_progress
    with ctx.client(max_connections=2 * jobs, processing_timeout=args.processing_timeout) as client:
        owner = "" if args.send_all else args.user or ctx.user
        with (
            err.status("listing your images, to skip those already there…")
            if show
            else nullcontext()
        ):
            known = known_images(client, owner)
        outcomes = upload_all(
            client, files, fields, known, jobs, show=show, notes=not args.no_progress
        )
    elapsed = time.monotonic() - started
    print_summary([asdict(o) for o in outcomes], elapsed, as_json=args.json)
    return 1 if any(o.result == "failed" for o in outcomes) else 0


def known_images(client: Client, owner: str) -> dict[str, str]:
    """SHA-256 -> image id of the owner's images: those files need not be sent at all. The
    service still answers a duplicate for any that slip through (200 + duplicate_of)."""
    if not owner:
        return {}
    return {image.sha256: image.image_id for image in client.iter_images(user_id=owner, limit=100)}


def upload_all(
    client: Client,
    files: list[Path],
    fields: UploadFields,
    known: dict[str, str],
    jobs: int,
    *,
    show: bool,
    notes: bool = True,
) -> list[Outcome]:
    sizes = {path: _size(path) for path in files}
    with TransferBars(err, len(files), sum(sizes.values()), enabled=show) as bars:
        display = Display(bars, notes)
        return run_in_threads(
            lambda path: _upload_one(client, path, sizes[path], fields, known, display),
            files,
            jobs,
        )


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _upload_one(
    client: Client,
    path: Path,
    size: int,
    fields: UploadFields,
    known: dict[str, str],
    display: Display,
) -> Outcome:
    bars = display.bars
    task = None
    try:
        existing = known.get(sha256_file(path))
        if existing is not None:
            return Outcome(str(path), "duplicate", size, image_id=existing, route="skipped")
        task = file_task = bars.start_file(path.name, size)
        done = client.upload(
            path,
            description=fields.description,
            tags=fields.tags,
            metadata=fields.metadata,
            user_id=fields.user_id,
            progress=lambda sent, total: bars.report(file_task, sent),
            waiting=_processing_notes(path) if display.notes else None,
        )
        result: Result = "duplicate" if done.duplicate else "uploaded"
        return Outcome(str(path), result, size, done.sent_bytes, done.image.image_id, done.route)
    except UploadStillProcessing as error:
        reason = (
            f"still processing after {error.waited:.0f} s (upload {error.upload_id}):"
            " run the same command again to wait for it"
        )
        return Outcome(str(path), "failed", size, reason=reason)
    except (MpycloudError, OSError) as error:
        return Outcome(str(path), "failed", size, reason=describe(error))
    finally:
        bars.finish_file(task, size)


def _processing_notes(path: Path) -> Waiting:
    """A line on standard error when the service starts processing the file, and another
    every NOTE_EVERY seconds it goes on."""
    noted: list[float] = []

    def note(status: UploadStatus, waited: float) -> None:
        if not noted:
            line = f"{path}: processing at the service (upload {status.upload_id})…"
        elif waited - noted[-1] >= NOTE_EVERY:
            line = f"{path}: still processing after {waited:.0f} s"
        else:
            return
        noted.append(waited)
        err.print(line, markup=False, soft_wrap=True)

    return note
