"""A HEIF file (HEIC, AVIF: the ISOBMFF container) without its location. Its top-level boxes
are walked. A ``meta`` box is read whole (the table of the items, a few KiB), and the EXIF and
XMP items it names are read where its ``iloc`` puts them as the walk passes them (in the
``mdat`` that follows, or in the meta box itself), then rewritten in place, each to its own
length, so that no offset in ``iloc`` or anywhere else changes:

* an ``Exif`` item keeps every byte but its GPS IFD and the pointer to it
  (``exif_gps.blanked_gps``);
* an XMP item (``mime``, ``application/rdf+xml``), like a top-level XMP ``uuid`` box, gets as
  many spaces in place of its location properties (``xmp_location.blanked_location``);
* a ``moov`` box (an image sequence's tracks) is read, and refused when its user data or
  metadata names a position (``©xyz``, ``loci``, a location key, GPS): tracks are not edited.

Every other byte, the image data among them, is copied as it is; whatever follows the last box
is not kept. LocationNotRemovable for an EXIF or XMP item that cannot be rewritten where it
lies: stored elsewhere than at the offsets given (``idat``, other items, another file),
protected, compressed, running to the end of the file, or lying before the meta box that names
it (the file is read once, front to back).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from service.adapters.location_scrub import exif_gps, isobmff, xmp_location
from service.adapters.location_scrub.source import CHUNK, Source
from service.domain.errors import InvalidImage, LocationNotRemovable
from service.domain.scrub import Scrubbed

_HEADER = 16 + 16  # the longest box header (a 64-bit size), and a uuid box's own type
XMP_CONTENT_TYPES = ("application/rdf+xml", "application/xml", "text/xml")
# What a track's user data or metadata names a position with: QuickTime's ``©xyz``, 3GPP's
# ``loci``, Apple's ``com.apple.quicktime.location.ISO6709`` key, GPS tags of an EXIF or XMP.
_TRACK_LOCATION = re.compile(rb"(?i)\xa9xyz|loci|location|g\x00?p\x00?s|latitude")


@dataclass
class _Item:
    """An EXIF or XMP item whose extents are being read."""

    item: isobmff.Item
    what: str
    pieces: dict[int, bytes] = field(default_factory=dict)  # by extent index


@dataclass
class _Walk:
    source: Source
    edits: list[tuple[int, int, bytes]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    # The extents still to read, by offset: (offset, length, item, extent index).
    pending: list[tuple[int, int, _Item, int]] = field(default_factory=list)


def is_heif(start: bytes) -> bool:
    """Whether a file that starts with ``start`` is an ISOBMFF file (an ``ftyp`` box first)."""
    return start[4:8] == b"ftyp"


def scrub(source: Source) -> Scrubbed:
    walk = _Walk(source)
    while not source.at_end():
        start = source.position
        header = source.peek(_HEADER)
        found = isobmff.box_header(header, 0, len(header))
        if found is None:  # no box: where readers stop
            walk.removed.append("the data after the file's last box")
            return _finished(walk, start)
        kind, header_size, size = found
        stop = None if size is None else start + size
        usertype = header[header_size : header_size + 16]
        if kind == b"meta" and stop is not None:
            _meta(walk, start, stop)
        elif kind == b"moov" and stop is not None:
            _moov(walk, start, stop)
        elif kind == b"uuid" and stop is not None and usertype == isobmff.XMP_UUID:
            _xmp_box(walk, start, stop, header_size + 16)
        elif kind in (b"meta", b"moov"):
            raise LocationNotRemovable(
                f"The file's {kind.decode()} box runs to its end without a size: it is not read"
            )
        else:
            _pass(walk, stop, f"a {kind.decode('latin-1')!r} box")
    return _finished(walk, source.position)


def _meta(walk: _Walk, start: int, stop: int) -> None:
    data = walk.source.metadata(stop - start, "the meta box")
    try:
        items = isobmff.items(data)
    except isobmff.BoxError as error:
        raise InvalidImage("The file's meta box cannot be read", detail=str(error)) from None
    for item in items:
        what = _what(item)
        if what is None or not item.extents:
            continue
        _check_rewritable(item, what)
        entry = _Item(item, what)
        walk.pending += [(offset, n, entry, i) for i, (offset, n) in enumerate(item.extents)]
    walk.pending.sort(key=lambda extent: extent[:2])
    _held(walk, start, data, "before the meta box that names it")


def _moov(walk: _Walk, start: int, stop: int) -> None:
    data = walk.source.metadata(stop - start, "the moov box")
    try:
        boxes = list(isobmff.descendants(data, (b"moov", b"trak")))
    except isobmff.BoxError as error:
        raise InvalidImage("The file's moov box cannot be read", detail=str(error)) from None
    for box in boxes:
        if box.kind in (b"udta", b"meta") and _TRACK_LOCATION.search(data[box.start : box.end]):
            raise LocationNotRemovable(
                "The file's tracks carry metadata that names a location: it is not removed "
                "from tracks"
            )
    _held(walk, start, data, "across the moov box")


def _xmp_box(walk: _Walk, start: int, stop: int, packet: int) -> None:
    data = walk.source.metadata(stop - start, "the XMP box")
    blanked = xmp_location.blanked_location(data[packet:])
    if blanked is not None:
        walk.edits.append((start + packet, stop, blanked))
        walk.removed.append("the location properties of the XMP box")
    _held(walk, start, data, "across the XMP box")


def _pass(walk: _Walk, stop: int | None, what: str) -> None:
    """Skip to ``stop`` (None: the end of the file), reading the extents that lie before it."""
    source = walk.source
    while walk.pending and (stop is None or walk.pending[0][0] < stop):
        offset, length, item, index = walk.pending.pop(0)
        if offset < source.position:
            raise LocationNotRemovable(f"{_capital(item.what)} lies across the file's boxes")
        if stop is not None and offset + length > stop:
            raise LocationNotRemovable(f"{_capital(item.what)} runs past the box that holds it")
        source.skip(offset - source.position, what)
        item.pieces[index] = source.metadata(length, item.what)
        _rewrite(walk, item)
    # Up to the box's end, or the file's where it ends first (a truncated last box).
    left = None if stop is None else stop - source.position
    while (left is None or left > 0) and not source.at_end():
        step = len(source.peek(CHUNK if left is None else min(left, CHUNK)))
        source.skip(step, what)
        left = None if left is None else left - step


def _held(walk: _Walk, start: int, data: bytes, where: str) -> None:
    """Read the extents that lie in ``data`` (a box read whole, from ``start``); refuse those
    that start before its end and are not in it."""
    stop = start + len(data)
    for extent in [extent for extent in walk.pending if extent[0] < stop]:
        offset, length, item, index = extent
        if offset < start or offset + length > stop:
            raise LocationNotRemovable(f"{_capital(item.what)} lies {where}")
        walk.pending.remove(extent)
        item.pieces[index] = data[offset - start : offset - start + length]
        _rewrite(walk, item)


def _rewrite(walk: _Walk, entry: _Item) -> None:
    """Once every extent of ``entry`` is read: rewrite those whose bytes change."""
    item = entry.item
    if len(entry.pieces) < len(item.extents):
        return
    data = b"".join(entry.pieces[i] for i in range(len(item.extents)))
    blanked = _blanked_exif(data) if item.kind == b"Exif" else xmp_location.blanked_location(data)
    if blanked is None:
        return
    position = 0
    for offset, length in item.extents:
        piece = blanked[position : position + length]
        if piece != data[position : position + length]:
            walk.edits.append((offset, offset + length, piece))
        position += length
    walk.removed.append(f"the location of {entry.what}")


def _blanked_exif(data: bytes) -> bytes | None:
    """An Exif item (the offset of its TIFF header, then the block) with its GPS IFD blanked;
    one without that offset (a TIFF block, after ``Exif\\0\\0`` or not) is read as well."""
    start = 4 + int.from_bytes(data[:4], "big") if len(data) >= 4 else 0
    if not exif_gps.is_tiff(data[start:]) and exif_gps.is_tiff(data):
        start = 0
    try:
        blanked = exif_gps.blanked_gps(data[start:])
    except exif_gps.UnreadableExif:
        raise LocationNotRemovable(
            "An Exif item holds no TIFF block where it says (compressed, or in a form that is "
            "not read): a location in it cannot be removed"
        ) from None
    return None if blanked is None else data[:start] + blanked


def _finished(walk: _Walk, end: int) -> Scrubbed:
    # Items whose bytes lie past the last box go with what follows it; past the end of the
    # file, they are missing.
    dropped = not walk.source.at_end()
    for _, _, item, _ in walk.pending:
        if item.pieces:
            raise LocationNotRemovable(f"{_capital(item.what)} lies partly past the last box")
        if not dropped:
            raise InvalidImage(f"The file ends before the bytes of {item.what}")
    edits = sorted(set(walk.edits))
    for (_, stop, _), (start, _, _) in itertools.pairwise(edits):
        if start < stop:
            raise LocationNotRemovable("Two items of the file share bytes: they are not edited")
    return Scrubbed.of(edits, end, walk.removed)


def _what(item: isobmff.Item) -> str | None:
    """How an EXIF or XMP item is named in messages; None for any other item."""
    if item.kind == b"Exif":
        return f"the Exif item {item.item_id}"
    content_type = item.content_type.split(";")[0].strip().lower()
    if item.kind == b"mime" and content_type in XMP_CONTENT_TYPES:
        return f"the XMP item {item.item_id}"
    return None


def _check_rewritable(item: isobmff.Item, what: str) -> None:
    why = None
    if item.protected:
        why = "is protected (encrypted)"
    elif item.content_encoding:
        why = f"is compressed ({item.content_encoding})"
    elif item.construction_method != 0:
        why = "is not stored at the offsets its location gives (idat, or other items)"
    elif item.data_reference_index != 0:
        why = "is stored in another file"
    elif any(length == 0 for _, length in item.extents):
        why = "runs to the end of the file"
    if why is not None:
        raise LocationNotRemovable(f"{_capital(what)} {why}: a location in it cannot be removed")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
