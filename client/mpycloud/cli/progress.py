"""Progress bars: one per file in flight and one for all files (bytes/s and files/s)."""

from __future__ import annotations

import threading
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.text import Text

from mpycloud.cli.common import counted


class FilesColumn(ProgressColumn):
    """``12/200 files 4.1/s`` on the overall bar; nothing on a file's own bar."""

    def render(self, task: Task) -> Text:
        if "files_total" not in task.fields:
            return Text("")
        done, total = task.fields["files_done"], task.fields["files_total"]
        elapsed = task.elapsed or 0.0
        # Under a second the rate says little (a run of skipped duplicates shows thousands/s).
        rate = f" {done / elapsed:.1f}/s" if elapsed >= 1 else ""
        return Text(f"{done}/{counted(total, 'file')}{rate}", style="progress.data.speed")


class TransferBars:
    """Thread-safe: workers report each file's bytes; the overall bar adds them up."""

    def __init__(self, console: Console, files: int, total_bytes: int, *, enabled: bool) -> None:
        self._progress = Progress(
            TextColumn("{task.description}", table_column=None),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            FilesColumn(),
            TimeRemainingColumn(),
            console=console,
            disable=not enabled,
        )
        self._overall = self._progress.add_task(
            "[bold]all files", total=total_bytes, files_done=0, files_total=files
        )
        self._lock = threading.Lock()
        self._files: dict[TaskID, list[int]] = {}  # task -> [bytes moved, bytes in all]
        self._files_done = 0
        self._total = total_bytes

    def __enter__(self) -> TransferBars:
        self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def start_file(self, name: str, size: int) -> TaskID:
        label = name if len(name) <= 32 else f"…{name[-31:]}"
        task = self._progress.add_task(label, total=size or None)
        with self._lock:
            self._files[task] = [0, size]
        return task

    def report(self, task: TaskID, done: int, total: int | None = None) -> None:
        """``done``: the file's bytes so far (absolute: a retry starts again at 0); ``total``
        when it was not known at the start (a download)."""
        with self._lock:
            sent, size = self._files[task]
            if total is not None and total != size:
                self._total += total - size
                size = total
            self._files[task] = [done, size]
            overall = self._total
        self._progress.update(task, completed=done, total=size or None)
        self._progress.update(self._overall, advance=done - sent, total=overall)

    def finish_file(self, task: TaskID | None, size: int = 0) -> None:
        """The file is done, moved or not: what was never moved leaves the overall total
        (``size``: of a file that had no bar of its own)."""
        with self._lock:
            sent, size = self._files.pop(task, [0, size]) if task is not None else [0, size]
            self._files_done += 1
            self._total -= size - sent
            total, files_done = self._total, self._files_done
        self._progress.update(self._overall, total=total, files_done=files_done)
        if task is not None:
            self._progress.remove_task(task)
