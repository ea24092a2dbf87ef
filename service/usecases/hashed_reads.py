"""A stream read once, its SHA-256 taken on the way: an upload too large to hold in memory is
checked and scrubbed of its location in the same read."""

from __future__ import annotations

import hashlib

from service.ports import Readable

_CHUNK = 1024 * 1024


class Sha256Reader:
    def __init__(self, stream: Readable) -> None:
        self._stream = stream
        self._digest = hashlib.sha256()

    def read(self, size: int, /) -> bytes:
        data = self._stream.read(size)
        self._digest.update(data)
        return data

    def sha256(self) -> str:
        """The SHA-256 of the whole stream: what is left of it is read first."""
        while self.read(_CHUNK):
            pass
        return self._digest.hexdigest()
