"""ISOBMFF, the container of HEIF, HEIC and AVIF, read from bytes already in hand: box headers,
and what a ``meta`` box says of its items (their types, where their bytes lie, the coding of
its images and the size of its primary one). No I/O but ``top_level``, which seeks through a
file's top-level box headers.

Every reader raises BoxError where a box does not fit in its parent or ends inside a field.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import BinaryIO

# The major brands and compatible brands of the files read as HEIF or AVIF.
AVIF_BRANDS = (b"avif", b"avis")
FULL_BOX = 4  # a full box's version and flags, before its fields
XMP_UUID = bytes.fromhex("be7acfcb97a942e89c71999491e3afac")  # a top-level XMP box's
# The samples a pixel decodes to, in halves, by chroma format (0: monochrome ... 3: 4:4:4).
_HALF_SAMPLES = {0: 2, 1: 3, 2: 4, 3: 6}


class BoxError(ValueError):
    """A box that does not fit where it lies, or whose fields end before they should."""


@dataclass(frozen=True)
class Box:
    kind: bytes
    start: int  # of its header
    body: int  # of its payload
    end: int  # the offset after it


@dataclass(frozen=True)
class Item:
    """An item of a meta box, as ``iinf`` and ``iloc`` describe it."""

    item_id: int
    kind: bytes  # its item_type: b"Exif", b"mime", b"hvc1", b"av01", b"grid", ...
    content_type: str = ""  # of a ``mime`` item
    content_encoding: str = ""  # of a ``mime`` item: compressed when not empty
    protected: bool = False
    construction_method: int = 0  # 0: in the file, at the offsets given; 1: in idat; 2: refs
    data_reference_index: int = 0  # 0: this file
    # (offset, length) of each of its pieces in the file, in order, base offset included;
    # a length of 0 runs to the end of the file.
    extents: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Coding:
    """How an image item is coded (``hvcC``, ``av1C``): the samples a decoded pixel holds, in
    halves (3: 4:2:0), and the bytes of a sample (2 above 8 bits)."""

    half_samples: int
    sample_bytes: int


def box_header(data: bytes, offset: int, end: int) -> tuple[bytes, int, int | None] | None:
    """The kind, header size and box size (None: the box runs to the end of the file) of the
    box at ``offset``, which may not run past ``end``; None where no box header fits."""
    if end - offset < 8:
        return None
    size, kind = struct.unpack_from(">I4s", data, offset)
    header = 8
    if size == 1:
        if end - offset < 16:
            return None
        (size,) = struct.unpack_from(">Q", data, offset + 8)
        header = 16
    elif size == 0:
        return kind, header, None
    if size < header:
        return None
    return kind, header, size


def children(data: bytes, start: int, end: int) -> Iterator[Box]:
    """The boxes between ``start`` and ``end`` of ``data``."""
    position = start
    while position < end:
        found = box_header(data, position, end)
        if found is None:
            raise BoxError(f"no box fits at byte {position}")
        kind, header, size = found
        stop = end if size is None else position + size
        if stop > end:
            raise BoxError(f"a {kind!r} box at byte {position} runs past its parent")
        yield Box(kind, position, position + header, stop)
        position = stop


def is_avif(start: bytes) -> bool:
    """Whether a file that starts with ``start`` names an AVIF brand in its ``ftyp`` box."""
    found = box_header(start, 0, len(start))
    if found is None or found[0] != b"ftyp":
        return False
    _, header, size = found
    end = min(len(start), size or len(start))
    major, compatible = start[header : header + 4], start[header + 8 : end]
    brands = [major, *(compatible[i : i + 4] for i in range(0, len(compatible) - 3, 4))]
    return any(brand in AVIF_BRANDS for brand in brands)


def top_level(body: BinaryIO, kinds: tuple[bytes, ...], limit: int) -> dict[bytes, bytes]:
    """The first top-level box of each of ``kinds`` in ``body`` (header included), seeking
    past the others; only those of ``limit`` bytes at most, and whole within the file."""
    position = body.tell()
    found: dict[bytes, bytes] = {}
    try:
        end = body.seek(0, io.SEEK_END)
        offset = 0
        while offset < end and len(found) < len(kinds):
            body.seek(offset)
            header = body.read(16)
            parsed = box_header(header, 0, len(header))
            if parsed is None:
                break
            kind, _, size = parsed
            size = end - offset if size is None else size
            if kind in kinds and kind not in found and size <= min(limit, end - offset):
                body.seek(offset)
                found[kind] = body.read(size)
            offset += size
        return found
    finally:
        body.seek(position)


def items(meta: bytes) -> list[Item]:
    """The items a ``meta`` box (``meta``: the box, header included) names in ``iinf``, where
    ``iloc`` puts their bytes (an item ``iloc`` does not name has no extents)."""
    infos: dict[int, Item] = {}
    locations: dict[int, Item] = {}
    for box in _meta_children(meta):
        if box.kind == b"iinf":
            infos.update((item.item_id, item) for item in _item_infos(meta, box))
        elif box.kind == b"iloc":
            locations.update((item.item_id, item) for item in _item_locations(meta, box))
    return [
        replace(
            info,
            construction_method=location.construction_method,
            data_reference_index=location.data_reference_index,
            extents=location.extents,
        )
        if (location := locations.get(item_id)) is not None
        else info
        for item_id, info in infos.items()
    ]


def codings(meta: bytes) -> list[Coding]:
    """How the images of a ``meta`` box are coded: one entry for each ``hvcC`` (HEVC) and
    ``av1C`` (AV1) property it holds."""
    found = []
    for box in _properties(meta):
        fields = meta[box.body : box.end]
        if box.kind == b"hvcC" and len(fields) >= 19:
            chroma, depth = fields[16] & 0x03, 8 + max(fields[17] & 0x07, fields[18] & 0x07)
        elif box.kind == b"av1C" and len(fields) >= 3:
            high, twelve, mono = (fields[2] >> 6) & 1, (fields[2] >> 5) & 1, (fields[2] >> 4) & 1
            subsampled_x, subsampled_y = (fields[2] >> 3) & 1, (fields[2] >> 2) & 1
            chroma = 0 if mono else 3 - subsampled_x - subsampled_y
            depth = 12 if twelve else 10 if high else 8
        else:
            continue
        found.append(Coding(_HALF_SAMPLES[chroma], 2 if depth > 8 else 1))
    return found


def primary_size(meta: bytes) -> tuple[int, int] | None:
    """Width and height of the primary item (its ``ispe`` property: before any rotation),
    or None where the box does not say."""
    primary = None
    for box in _meta_children(meta):
        if box.kind == b"pitm":
            fields = _Fields(meta, box.body, box.end)
            version = fields.uint(1)
            fields.skip(3)
            primary = fields.uint(2 if version == 0 else 4)
    if primary is None:
        return None
    properties = list(_properties(meta))
    for index in _associations(meta).get(primary, []):
        if 0 < index <= len(properties) and properties[index - 1].kind == b"ispe":
            fields = _Fields(meta, properties[index - 1].body, properties[index - 1].end)
            fields.skip(FULL_BOX)
            return fields.uint(4), fields.uint(4)
    return None


def sample_count(moov: bytes) -> int:
    """The most samples (frames) a track of a ``moov`` box (an image sequence's) holds, from
    its sample size table; 0 where it says none."""
    counts = [0]
    for track in descendants(moov, (b"moov", b"trak", b"mdia", b"minf", b"stbl")):
        if track.kind == b"stsz":
            fields = _Fields(moov, track.body, track.end)
            fields.skip(FULL_BOX + 4)  # the sample size shared by every sample
            counts.append(fields.uint(4))
    return max(counts)


def descendants(data: bytes, containers: tuple[bytes, ...]) -> Iterator[Box]:
    """Every box in ``data`` (one box) reached through boxes of ``containers``."""
    pending = [Box(b"", 0, 0, len(data))]
    while pending:
        parent = pending.pop()
        for box in children(data, parent.body, parent.end):
            if box.kind in containers:
                pending.append(box)
            yield box


def _meta_children(meta: bytes) -> Iterator[Box]:
    found = box_header(meta, 0, len(meta))
    if found is None or found[0] != b"meta":
        raise BoxError("not a meta box")
    return children(meta, found[1] + FULL_BOX, len(meta))


def _properties(meta: bytes) -> Iterator[Box]:
    """The boxes of ``iprp``'s ``ipco``, in order (``ipma`` numbers them from 1)."""
    for box in _meta_children(meta):
        if box.kind == b"iprp":
            for container in children(meta, box.body, box.end):
                if container.kind == b"ipco":
                    yield from children(meta, container.body, container.end)


def _associations(meta: bytes) -> dict[int, list[int]]:
    """The property indexes ``ipma`` associates with each item."""
    associations: dict[int, list[int]] = {}
    for box in _meta_children(meta):
        if box.kind != b"iprp":
            continue
        for ipma in children(meta, box.body, box.end):
            if ipma.kind != b"ipma":
                continue
            fields = _Fields(meta, ipma.body, ipma.end)
            version, flags = fields.uint(1), fields.uint(3)
            for _ in range(fields.uint(4)):
                item_id = fields.uint(2 if version < 1 else 4)
                indexes = associations.setdefault(item_id, [])
                for _ in range(fields.uint(1)):
                    wide = flags & 1
                    indexes.append(fields.uint(2 if wide else 1) & (0x7FFF if wide else 0x7F))
    return associations


def _item_infos(meta: bytes, iinf: Box) -> Iterator[Item]:
    fields = _Fields(meta, iinf.body, iinf.end)
    version = fields.uint(1)
    fields.skip(3 + (2 if version == 0 else 4))  # flags, the entry count
    for infe in children(meta, fields.position, iinf.end):
        if infe.kind != b"infe":
            continue
        entry = _Fields(meta, infe.body, infe.end)
        version = entry.uint(1)
        entry.skip(3)
        item_id = entry.uint(4 if version >= 3 else 2)
        protected = entry.uint(2) != 0
        if version >= 2:
            kind = entry.take(4)
            entry.string()  # its name
        else:  # an entry of version 0 or 1 is typed by its content type alone
            kind = b"mime"
            entry.string()
        content_type = content_encoding = ""
        if kind == b"mime":
            content_type = entry.string() if entry.left else ""
            content_encoding = entry.string() if entry.left else ""
        yield Item(item_id, kind, content_type, content_encoding, protected)


def _item_locations(meta: bytes, iloc: Box) -> Iterator[Item]:
    fields = _Fields(meta, iloc.body, iloc.end)
    version = fields.uint(1)
    fields.skip(3)
    sizes = fields.uint(2)
    offset_size, length_size = sizes >> 12, (sizes >> 8) & 0x0F
    base_offset_size, index_size = (sizes >> 4) & 0x0F, sizes & 0x0F
    if version not in (1, 2):
        index_size = 0
    for _ in range(fields.uint(2 if version < 2 else 4)):
        item_id = fields.uint(2 if version < 2 else 4)
        method = fields.uint(2) & 0x0F if version in (1, 2) else 0
        reference = fields.uint(2)
        base = fields.uint(base_offset_size)
        extents = []
        for _ in range(fields.uint(2)):
            fields.uint(index_size)
            offset = fields.uint(offset_size)
            extents.append((base + offset, fields.uint(length_size)))
        yield Item(item_id, b"", "", "", False, method, reference, tuple(extents))


class _Fields:
    """Big-endian fields read in order from ``data[start:end]``."""

    def __init__(self, data: bytes, start: int, end: int) -> None:
        self._data, self.position, self._end = data, start, end

    @property
    def left(self) -> int:
        return self._end - self.position

    def take(self, size: int) -> bytes:
        if size > self.left:
            raise BoxError("a box ends inside one of its fields")
        data = self._data[self.position : self.position + size]
        self.position += size
        return data

    def skip(self, size: int) -> None:
        self.take(size)

    def uint(self, size: int) -> int:
        """An unsigned integer of ``size`` bytes (0 bytes: 0)."""
        return int.from_bytes(self.take(size), "big")

    def string(self) -> str:
        """A NUL-terminated UTF-8 string (or one that runs to the end of the box)."""
        end = self._data.find(b"\x00", self.position, self._end)
        stop = self._end if end < 0 else end
        text = self._data[self.position : stop].decode("utf-8", "replace")
        self.position = min(self._end, stop + 1)
        return text
