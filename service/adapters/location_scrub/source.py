"""The upload as the scrub reads it: once, front to back, from bytes in memory or a stream from
the store, so that a file too large for memory is walked the same way as a small one.

Image data is skipped; only metadata blocks are held, and at most ``METADATA_LIMIT`` bytes of
them per file.
"""

from __future__ import annotations

import re

from service.domain.errors import InvalidImage, LocationNotRemovable
from service.ports import Readable

CHUNK = 1024 * 1024
METADATA_LIMIT = 16 * 1024 * 1024
# In a JPEG's entropy-coded data 0xFF is followed by 0x00 (a stuffed byte), by a restart
# marker (0xD0-0xD7) or by another 0xFF (fill): anything else starts a marker.
_JPEG_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


class Source:
    def __init__(self, stream: Readable, *, metadata_limit: int = METADATA_LIMIT) -> None:
        self._stream = stream
        self._buffer = b""
        self._index = 0  # of the next byte in the buffer
        self._offset = 0  # in the file, of the buffer's first byte
        self._metadata_left = metadata_limit
        self._metadata_limit = metadata_limit

    @property
    def position(self) -> int:
        """Where in the file the next byte read is."""
        return self._offset + self._index

    def at_end(self) -> bool:
        return not self._fill(1)

    def peek(self, size: int) -> bytes:
        """Up to ``size`` bytes ahead, not consumed (fewer at the end of the file)."""
        self._fill(size)
        return self._buffer[self._index : self._index + size]

    def read(self, size: int, what: str) -> bytes:
        """Exactly ``size`` bytes; InvalidImage naming ``what`` if the file ends first."""
        if not self._fill(size):
            raise InvalidImage(f"The file is truncated: it ends inside {what}")
        data = self._buffer[self._index : self._index + size]
        self._index += size
        return data

    def metadata(self, size: int, what: str) -> bytes:
        """``read``, counted against the file's metadata budget."""
        self._metadata_left -= size
        if self._metadata_left < 0:
            raise LocationNotRemovable(
                f"The file carries more than {self._metadata_limit} bytes of metadata, more "
                "than is read to find a location in it"
            )
        return self.read(size, what)

    def skip(self, size: int, what: str) -> None:
        while size > 0:
            if not self._fill(1):
                raise InvalidImage(f"The file is truncated: it ends inside {what}")
            step = min(size, len(self._buffer) - self._index)
            self._index += step
            size -= step

    def skip_to(self, byte: bytes) -> bool:
        """Skip to the next ``byte`` (one byte); False at the end of the file."""
        while self._fill(1):
            found = self._buffer.find(byte, self._index)
            if found >= 0:
                self._index = found
                return True
            self._index = len(self._buffer)
        return False

    def skip_to_jpeg_marker(self) -> bool:
        """Skip entropy-coded data up to the next marker; False at the end of the file."""
        while self._fill(2):
            found = _JPEG_MARKER.search(self._buffer, self._index)
            if found is not None:
                self._index = found.start()
                return True
            # A 0xFF at the very end may start a marker the next read completes.
            self._index = len(self._buffer) - (1 if self._buffer.endswith(b"\xff") else 0)
            if not self._fill(2):
                break
        self._index = len(self._buffer)
        return False

    def _fill(self, size: int) -> bool:
        """Whether ``size`` bytes are (now) buffered ahead, reading the stream as needed."""
        while len(self._buffer) - self._index < size:
            data = self._stream.read(max(CHUNK, size))
            if not data:
                return False
            self._offset += self._index
            self._buffer = self._buffer[self._index :] + data
            self._index = 0
        return True
