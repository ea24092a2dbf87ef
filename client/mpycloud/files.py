"""Local files: their SHA-256, their image type, reading them while reporting progress, and
writing private ones (config, resume state)."""

from __future__ import annotations

import hashlib
import mimetypes
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

# (bytes sent so far, bytes in all): absolute, so that a retried request simply starts over.
Progress = Callable[[int, int], None]
CHUNK = 256 * 1024
# By file name, for what the first bytes do not tell (Python's mimetypes may not know the
# last three on every platform).
CONTENT_TYPE_BY_SUFFIX = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".jpe": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".heic": "image/heic",
    ".heif": "image/heif",
    ".avif": "image/avif",
}
IMAGE_SUFFIXES = frozenset(CONTENT_TYPE_BY_SUFFIX)
# ISO base media files (HEIF, AVIF): the ``ftyp`` box's brands.
HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"})
AVIF_BRANDS = frozenset({b"avif", b"avis"})
HEIF_BRANDS = frozenset({b"mif1", b"msf1"})


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def sniff_content_type(path: Path) -> str | None:
    """The image type from the first bytes (as the service decides it), else from the name."""
    with path.open("rb") as file:
        head = file.read(64)
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        found = _iso_media_type(head)
        if found is not None:
            return found
    known = CONTENT_TYPE_BY_SUFFIX.get(path.suffix.lower())
    if known is not None:
        return known
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed if guessed and guessed.startswith("image/") else None


def _iso_media_type(head: bytes) -> str | None:
    """HEIC, AVIF or HEIF from an ``ftyp`` box: its major brand, else (a generic ``mif1``) the
    compatible brands that follow it."""
    box = head[: int.from_bytes(head[:4], "big")]
    major = box[8:12]
    brands = [major] + [box[n : n + 4] for n in range(16, len(box) - 3, 4)]
    for brand in brands:
        if brand in AVIF_BRANDS:
            return "image/avif"
        if brand in HEIC_BRANDS:
            return "image/heic"
    return "image/heif" if any(brand in HEIF_BRANDS for brand in brands) else None


class ProgressReader:
    """A whole file for a multipart form: httpx seeks it to 0 (again on a retry), reads it
    in chunks, and asks its length through seek/tell."""

    def __init__(self, path: Path, progress: Progress | None = None) -> None:
        self._file: BinaryIO = path.open("rb")
        self._size = os.fstat(self._file.fileno()).st_size
        self._progress = progress

    def read(self, size: int = -1) -> bytes:
        chunk = self._file.read(size)
        if self._progress is not None and chunk:
            self._progress(self._file.tell(), self._size)
        return chunk

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def close(self) -> None:
        self._file.close()


class FileReaders:
    """A new ``ProgressReader`` of one file for each attempt of a request (a retry reads the
    file again from its start); all of them closed when the ``with`` block ends."""

    def __init__(self, path: Path, progress: Progress | None = None) -> None:
        self._path = path
        self._progress = progress
        self._opened: list[ProgressReader] = []

    def new(self) -> ProgressReader:
        self._opened.append(ProgressReader(self._path, self._progress))
        return self._opened[-1]

    def __enter__(self) -> FileReaders:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for reader in self._opened:
            reader.close()


def file_slice(
    path: Path, offset: int, length: int, report: Callable[[int], None] | None = None
) -> Iterator[bytes]:
    """``length`` bytes from ``offset``, in chunks; ``report`` gets the bytes read so far."""
    done = 0
    with path.open("rb") as file:
        file.seek(offset)
        while done < length:
            chunk = file.read(min(CHUNK, length - done))
            if not chunk:
                raise OSError(f"{path} is shorter than expected: did it change while uploading?")
            done += len(chunk)
            if report is not None:
                report(done)
            yield chunk


def walk(paths: list[Path]) -> Iterator[Path]:
    """The files named, and the image files under the folders named (hidden ones left out),
    each once, in a stable order."""
    seen: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix.lower() in IMAGE_SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        else:
            found = [path]
        for file in found:
            key = file.resolve()
            if key not in seen:
                seen.add(key)
                yield file


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``, readable by its owner only (0600, folder 0700)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        os.fchmod(file.fileno(), 0o600)
        file.write(text)
    os.replace(partial, path)
