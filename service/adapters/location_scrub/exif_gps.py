"""An EXIF block without its GPS IFD, rebuilt by Pillow (``Image.Exif.tobytes``): IFD0 and the
Exif sub-IFD are written back, the embedded IFD1 thumbnail is not carried over.

Or, where the block must keep its length and every offset in it (``blanked_gps``: an EXIF item
of a HEIF file, which other boxes locate by offset), blanked in place: the pointer to the GPS
IFD taken out of the IFD that holds it, the GPS IFD and the values it points to zeroed; every
other byte stays where it was.
"""

from __future__ import annotations

import struct

from PIL import Image

from service.domain.errors import LocationNotRemovable

EXIF_HEADER = b"Exif\x00\x00"
TIFF_HEADERS = (b"II*\x00", b"MM\x00*")
EXIF_IFD = 0x8769
GPS_IFD = 0x8825


class UnreadableExif(Exception):
    """The block is no TIFF structure: nothing, Pillow included, reads anything from it."""


def is_tiff(block: bytes) -> bool:
    return block.removeprefix(EXIF_HEADER)[:4] in TIFF_HEADERS


def without_gps(block: bytes) -> bytes | None:
    """``block`` (TIFF, after an ``Exif\\0\\0`` header or not, as found) without its GPS IFD,
    with the same header; None when it has none."""
    tiff = block.removeprefix(EXIF_HEADER)
    if tiff[:4] not in TIFF_HEADERS:
        raise UnreadableExif("not a TIFF structure")
    exif = _loaded(tiff)
    if GPS_IFD not in exif:
        return None
    try:
        exif.get_ifd(EXIF_IFD)  # loaded, so that tobytes writes it back
        del exif[GPS_IFD]
        written = exif.tobytes().removeprefix(EXIF_HEADER)
    except Exception as error:
        raise LocationNotRemovable(
            "The EXIF block cannot be rewritten without its GPS",
            detail=f"{type(error).__name__}: {error}",
        ) from None
    if GPS_IFD in _loaded(written):
        raise LocationNotRemovable("The EXIF block still names a GPS IFD once rewritten")
    return block[: len(block) - len(tiff)] + written


def _loaded(tiff: bytes) -> Image.Exif:
    exif = Image.Exif()
    try:
        exif.load(tiff)
    except Exception as error:
        raise UnreadableExif(str(error)) from None
    return exif


# The bytes of one value of each TIFF field type (1 BYTE ... 13 IFD, 16-18 BigTIFF's).
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
_MAX_IFDS = 8  # IFD0, the Exif sub-IFD, and a chain of next IFDs this long at most


def blanked_gps(block: bytes) -> bytes | None:
    """``block`` (as for ``without_gps``) of the same length, its GPS IFD blanked in place:
    every pointer to it (IFD0's, or one another IFD holds) removed from the IFD that holds it,
    the GPS IFD and the values it points to zeroed. None when no IFD names a GPS IFD."""
    tiff = block.removeprefix(EXIF_HEADER)
    if tiff[:4] not in TIFF_HEADERS or len(tiff) < 8:
        raise UnreadableExif("not a TIFF structure")
    _loaded(tiff)  # raises UnreadableExif where no reader finds anything
    order = "<" if tiff[:2] == b"II" else ">"
    blanked = bytearray(tiff)
    found = False
    for ifd in _ifds(tiff, order):
        pointers = [entry for entry in _entries(tiff, order, ifd) if entry[0] == GPS_IFD]
        for _, _, _, value in pointers:
            _zero_ifd(blanked, tiff, order, value)
        if pointers:
            _drop_entries(blanked, tiff, order, ifd, GPS_IFD)
            found = True
    if not found:
        return None
    written = bytes(blanked)
    if GPS_IFD in _loaded(written):
        raise LocationNotRemovable("The EXIF block still names a GPS IFD once blanked")
    return block[: len(block) - len(tiff)] + written


def _ifds(tiff: bytes, order: str) -> list[int]:
    """The offsets of IFD0, the IFDs chained after it and the Exif sub-IFD, as far as they
    lie within the block."""
    (first,) = struct.unpack_from(f"{order}I", tiff, 4)
    seen: list[int] = []
    pending = [first]
    while pending and len(seen) < _MAX_IFDS:
        offset = pending.pop(0)
        if offset in seen or not 8 <= offset <= len(tiff) - 2:
            continue
        seen.append(offset)
        entries = _entries(tiff, order, offset)
        pending += [value for tag, _, _, value in entries if tag == EXIF_IFD]
        after = offset + 2 + 12 * len(entries)
        if after + 4 <= len(tiff):
            pending.append(struct.unpack_from(f"{order}I", tiff, after)[0])
    return seen


def _entries(tiff: bytes, order: str, offset: int) -> list[tuple[int, int, int, int]]:
    """(tag, type, count, value or offset) of each entry of the IFD at ``offset`` that lies
    within the block."""
    (count,) = struct.unpack_from(f"{order}H", tiff, offset)
    count = min(count, (len(tiff) - offset - 2) // 12)
    return [struct.unpack_from(f"{order}HHII", tiff, offset + 2 + 12 * i) for i in range(count)]


def _zero_ifd(blanked: bytearray, tiff: bytes, order: str, offset: int) -> None:
    """Zero the IFD at ``offset`` (its count, entries and next-IFD offset) and the values its
    entries point to."""
    if not 8 <= offset <= len(tiff) - 2:
        return
    entries = _entries(tiff, order, offset)
    for _, kind, count, value in entries:
        size = _TYPE_SIZES.get(kind, 1) * count
        if size > 4 and value < len(tiff):
            end = min(len(tiff), value + size)
            blanked[value:end] = bytes(end - value)
    end = min(len(tiff), offset + 2 + 12 * len(entries) + 4)
    blanked[offset:end] = bytes(end - offset)


def _drop_entries(blanked: bytearray, tiff: bytes, order: str, offset: int, tag: int) -> None:
    """Rewrite the IFD at ``offset`` without its entries of ``tag``: the others move up, the
    next-IFD offset follows them, and zeros fill the space left."""
    entries = _entries(tiff, order, offset)
    kept = [
        tiff[offset + 2 + 12 * i : offset + 14 + 12 * i]
        for i, e in enumerate(entries)
        if e[0] != tag
    ]
    after = offset + 2 + 12 * len(entries)
    following = tiff[after : after + 4]
    rewritten = struct.pack(f"{order}H", len(kept)) + b"".join(kept) + following
    end = after + len(following)
    blanked[offset:end] = rewritten + bytes(end - offset - len(rewritten))
