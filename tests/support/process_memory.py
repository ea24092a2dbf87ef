"""A process's memory as Linux shows it (/proc/<pid>/status): its RSS, its peak, and a sampler
of the RSS for kernels whose peak cannot be reset."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Process:
    pid: int

    def status(self, field: str) -> int:
        """A ``Vm*`` line of /proc/<pid>/status, in bytes."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024
        raise LookupError(field)

    def reset_peak(self) -> bool:
        """Make VmHWM start again from the current RSS (Linux >= 4.0)."""
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        except OSError:
            return False
        return True


class Sampler:
    """The process's VmRSS every few milliseconds, in case VmHWM cannot be reset."""

    def __init__(self, process: Process) -> None:
        self._process = process
        self._stop = threading.Event()
        self.peak = process.status("VmRSS")
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self._process.status("VmRSS"))

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
