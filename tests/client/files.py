"""Files for the client's tests: an image type's first bytes, then random bytes (the client
only sniffs the type; the fake service does not decode)."""

from __future__ import annotations

import os
from pathlib import Path

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_file(folder: Path, name: str, size: int) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(PNG_SIGNATURE + os.urandom(size - len(PNG_SIGNATURE)))
    return path
