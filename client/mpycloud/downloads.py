"""Downloads: the presigned URL from the API, then the bytes from S3, written as they come."""

from __future__ import annotations

import itertools
import os
import re
from pathlib import Path
from urllib.parse import unquote

import httpx

from mpycloud.errors import ConnectionFailed, StorageError
from mpycloud.files import Progress
from mpycloud.image_endpoints import ImageEndpoints

_EXTENDED = re.compile(r"filename\*\s*=\s*UTF-8''([^;]+)", re.IGNORECASE)
_PLAIN = re.compile(r'filename\s*=\s*"([^"]*)"', re.IGNORECASE)


def filename_from(disposition: str | None, fallback: str) -> str:
    """The file name S3 was told to give (``Content-Disposition``), as a bare name only."""
    text = disposition or ""
    match = _EXTENDED.search(text) or _PLAIN.search(text)
    name = Path(unquote(match.group(1)) if match else "").name
    return name if name not in ("", ".", "..") else fallback


def download_to(
    images: ImageEndpoints, image_id: str, destination: Path, progress: Progress | None
) -> Path:
    """Into ``destination``: a file, replaced; or a folder, under the image's file name made
    distinct from every file there (``a.jpg``, ``a-1.jpg``, ``a-2.jpg``...). Written to a
    ``.part`` file first, so that an interrupted download never looks finished."""
    link = images.download_link(image_id)
    response = images.storage.request("GET", link.download_url, stream=True)
    try:
        if not response.is_success:
            response.read()
            raise StorageError(response.status_code, response.text)
        into_folder = destination.is_dir()
        name = filename_from(response.headers.get("Content-Disposition"), image_id)
        wanted = destination / name if into_folder else destination
        # Named after the image: parallel downloads of same-named images write apart.
        partial = wanted.with_name(f".{wanted.name}.{image_id}.part")
        total = int(response.headers.get("Content-Length") or 0)
        done = 0
        try:
            with partial.open("wb") as file:
                for chunk in response.iter_bytes(256 * 1024):
                    file.write(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(done, max(total, done))
        except httpx.TransportError as error:
            partial.unlink(missing_ok=True)
            raise ConnectionFailed("the download broke off from", response.url, error) from error
        target = claim_free_name(wanted) if into_folder else wanted
        os.replace(partial, target)
        return target
    finally:
        response.close()


def claim_free_name(wanted: Path) -> Path:
    """``wanted``, else the first of ``stem-1.suffix``, ``stem-2.suffix``... that no file has,
    created (empty) at once so that no parallel download can take it too."""
    for number in itertools.count():
        name = wanted.name if number == 0 else f"{wanted.stem}-{number}{wanted.suffix}"
        candidate = wanted.with_name(name)
        try:
            os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return candidate
    raise AssertionError("unreachable: itertools.count() never ends")
