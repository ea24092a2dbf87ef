"""An upload as it is stored without its location: which of its bytes are kept, which are
written anew, and what was removed. Plain data: no I/O.

A scrub is a list of pieces rather than the new bytes themselves, so that an upload too large
to hold in memory is rewritten where it lies (the kept ranges copied by the store itself).
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec


class Kept(msgspec.Struct, frozen=True):
    """Bytes ``start`` up to ``end`` of the upload, as they are."""

    start: int
    end: int

    @property
    def size(self) -> int:
        return self.end - self.start


class Written(msgspec.Struct, frozen=True):
    """New bytes: a metadata block rewritten without its location."""

    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


Piece = Kept | Written


class Scrubbed(msgspec.Struct, frozen=True):
    """The stored file is ``pieces`` in order; ``removed`` names what was taken out, and is
    empty when the upload carries no location (it is then stored as it is)."""

    pieces: tuple[Piece, ...]
    removed: tuple[str, ...] = ()

    @classmethod
    def unchanged(cls, size: int) -> Scrubbed:
        return cls((Kept(0, size),) if size else ())

    @classmethod
    def of(
        cls,
        edits: Iterable[tuple[int, int, bytes]],
        end: int,
        removed: Iterable[str],
    ) -> Scrubbed:
        """The upload up to ``end``, each edit ``(start, stop, data)`` (ranges in order, apart)
        putting ``data`` in place of bytes ``start`` to ``stop``."""
        pieces: list[Piece] = []
        position = 0
        for start, stop, data in edits:
            if start > position:
                pieces.append(Kept(position, start))
            if data:
                pieces.append(Written(data))
            position = stop
        if end > position:
            pieces.append(Kept(position, end))
        return cls(tuple(pieces), tuple(removed))

    @property
    def size(self) -> int:
        return sum(piece.size for piece in self.pieces)

    def apply(self, data: bytes) -> bytes:
        """The stored bytes, from the upload's ``data``."""
        return b"".join(
            data[piece.start : piece.end] if isinstance(piece, Kept) else piece.data
            for piece in self.pieces
        )
