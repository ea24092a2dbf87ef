"""Where the ids of unfinished multipart upload sessions are kept, so an upload resumes.

An entry is keyed by the server, the user and the bytes (SHA-256 and size), not by the path:
the same file, moved or renamed, still resumes. A stale entry does no harm: the session it
names answers 404 or 410, and the entry is dropped.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Protocol

from mpycloud.files import write_private

KEEP_SECONDS = 7 * 24 * 3600  # sessions live an hour by default; this is only housekeeping


class ResumeStore(Protocol):
    def get(self, key: str) -> str | None: ...

    def put(self, key: str, upload_id: str) -> None: ...

    def forget(self, key: str) -> None: ...


class MemoryResumeStore:
    """Resumes within one process (a retried call after a failure)."""

    def __init__(self) -> None:
        self._ids: dict[str, str] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            return self._ids.get(key)

    def put(self, key: str, upload_id: str) -> None:
        with self._lock:
            self._ids[key] = upload_id

    def forget(self, key: str) -> None:
        with self._lock:
            self._ids.pop(key, None)

    def __len__(self) -> int:
        return len(self._ids)


class FileResumeStore:
    """A JSON file (mode 0600), rewritten whole and atomically on every change."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            entry = self._read().get(key)
        return str(entry["upload_id"]) if entry else None

    def put(self, key: str, upload_id: str) -> None:
        with self._lock:
            entries = self._read()
            entries[key] = {"upload_id": upload_id, "saved_at": time.time()}
            self._write(entries)

    def forget(self, key: str) -> None:
        with self._lock:
            entries = self._read()
            if entries.pop(key, None) is not None:
                self._write(entries)

    def _read(self) -> dict[str, dict[str, object]]:
        try:
            loaded = json.loads(self._path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return loaded if isinstance(loaded, dict) else {}

    def _write(self, entries: dict[str, dict[str, object]]) -> None:
        oldest = time.time() - KEEP_SECONDS
        kept = {key: entry for key, entry in entries.items() if _saved_after(entry, oldest)}
        write_private(self._path, json.dumps(kept, indent=1))


def _saved_after(entry: dict[str, object], moment: float) -> bool:
    saved = entry.get("saved_at")
    return isinstance(saved, int | float) and saved > moment
