"""A JPEG without its location. Its marker segments are walked up to the end-of-image marker,
skipping the entropy-coded data; only APP1 segments are read:

* each EXIF block (a ``Exif\\0\\0`` segment with a TIFF header, with the header-less segments
  that continue it) is rewritten without its GPS IFD, in one segment; an APP1 that readers take
  for EXIF but that has a non-standard header is dropped;
* each XMP packet, standard or extended (one packet in several segments, named by a GUID: it
  gets a new GUID, and the standard packet that names it is changed to match), loses its
  location properties (``xmp_location``); a non-standard APP1 that readers take for XMP is
  dropped when it mentions GPS;
* whatever follows the end-of-image marker (a Motion Photo's video, a second image, a vendor's
  trailer: any of which may hold a position) is not kept.

Every other byte is copied: the scan data, so the decoded pixels, are byte-identical.
"""

from __future__ import annotations

import hashlib
import re
import struct
from dataclasses import dataclass, field

from service.adapters.location_scrub import exif_gps, xmp_location
from service.adapters.location_scrub.source import Source
from service.domain.errors import InvalidImage, LocationNotRemovable
from service.domain.scrub import Scrubbed

SOI, EOI, SOS, APP1 = 0xD8, 0xD9, 0xDA, 0xE1
_EXTENSION_HEADER = len(xmp_location.XMP_EXTENSION) + 32 + 8  # GUID, full length, offset
_MAX_PAYLOAD = 0xFFFF - 2
_EXTENSION_CHUNK = 65400  # of XMP a segment carries, as Adobe's XMP toolkit writes them
_NONSTANDARD_EXIF = re.compile(rb".{0,4}Exif\x00", re.S)


@dataclass
class _Segment:
    start: int
    end: int
    payload: bytes


@dataclass
class _Walk:
    edits: list[tuple[int, int, bytes]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    exif: list[list[_Segment]] = field(default_factory=list)  # each: a block, its continuations
    xmp: list[_Segment] = field(default_factory=list)
    extended: dict[bytes, list[_Segment]] = field(default_factory=dict)

    def drop(self, segment: _Segment, why: str) -> None:
        self.edits.append((segment.start, segment.end, b""))
        self.removed.append(why)


def scrub(source: Source) -> Scrubbed:
    if source.read(2, "the JPEG's start") != b"\xff" + bytes([SOI]):
        raise InvalidImage("The file is not a JPEG")
    walk = _Walk()
    end = _walk_segments(source, walk)
    _scrub_exif(walk)
    _scrub_xmp(walk)
    if end is not None and not source.at_end():
        walk.removed.append("the data after the image's end-of-image marker")
    else:
        end = source.position
    return Scrubbed.of(sorted(walk.edits), end, walk.removed)


def _walk_segments(source: Source, walk: _Walk) -> int | None:
    """Read up to the end-of-image marker (where the file ends after it), or to the end of a
    file that has none (None)."""
    scanning = False
    while True:
        # Pillow skips bytes other than 0xFF between segments; so does this walk.
        found = source.skip_to_jpeg_marker() if scanning else source.skip_to(b"\xff")
        if not found:
            return None
        while source.peek(2)[1:] == b"\xff":  # fill bytes before the marker
            source.skip(1, "a marker")
        start = source.position
        marker = source.read(2, "a marker")[1]
        if marker == EOI:
            return source.position
        if 0xD0 <= marker <= 0xD7 or marker in (0x00, 0x01, SOI):  # no length (or no marker)
            continue
        (length,) = struct.unpack(">H", source.read(2, "a segment's length"))
        if length < 2:
            raise InvalidImage(f"A JPEG segment at byte {start} has a length of {length}")
        if marker == APP1:
            payload = source.metadata(length - 2, "an APP1 segment")
            _app1(walk, _Segment(start, source.position, payload))
        else:
            source.skip(length - 2, "a JPEG segment")
        scanning = scanning or marker == SOS


def _app1(walk: _Walk, segment: _Segment) -> None:
    payload = segment.payload
    if payload.startswith(exif_gps.EXIF_HEADER):
        if exif_gps.is_tiff(payload):
            walk.exif.append([segment])
        elif walk.exif:  # as Pillow and exiftool read them: the rest of the block before
            walk.exif[-1].append(segment)
        # else: no TIFF, nothing before it continues: no reader finds anything in it
    elif _NONSTANDARD_EXIF.match(payload):
        walk.drop(segment, "an EXIF segment with a non-standard header")
    elif payload.startswith(xmp_location.XMP_HEADER):
        walk.xmp.append(segment)
    elif payload.startswith(xmp_location.XMP_EXTENSION) and len(payload) > _EXTENSION_HEADER:
        guid = payload[len(xmp_location.XMP_EXTENSION) : len(xmp_location.XMP_EXTENSION) + 32]
        walk.extended.setdefault(guid, []).append(segment)
    elif _read_as_xmp(payload) and xmp_location.mentions_location(payload):
        walk.drop(segment, "an XMP segment with a non-standard header that mentions GPS")


def _read_as_xmp(payload: bytes) -> bool:
    """Whether exiftool reads this APP1 as XMP although its header is not XMP's."""
    return (
        payload.startswith((b"http", b"XMP\x00"))
        or b"<exif:" in payload
        or (b"<?xpacket" in payload)
    )


def _scrub_exif(walk: _Walk) -> None:
    for block in walk.exif:
        first, rest = block[0], block[1:]
        tiff = first.payload + b"".join(s.payload[len(exif_gps.EXIF_HEADER) :] for s in rest)
        try:
            rewritten = exif_gps.without_gps(tiff)
        except exif_gps.UnreadableExif:
            continue  # not even its IFD0 can be read: neither can a reader find GPS in it
        if rewritten is None:
            continue
        walk.edits.append((first.start, first.end, _segment(APP1, rewritten, "EXIF block")))
        walk.edits.extend((s.start, s.end, b"") for s in rest)
        walk.removed.append("the GPS IFD of an EXIF block")


def _scrub_xmp(walk: _Walk) -> None:
    renamed: dict[bytes, bytes] = {}
    for guid, segments in walk.extended.items():
        new_guid = _scrub_extended(walk, guid, segments)
        if new_guid is not None:
            renamed[guid] = new_guid
    for segment in walk.xmp:
        packet = segment.payload[len(xmp_location.XMP_HEADER) :]
        scrubbed = xmp_location.without_location(packet)
        if scrubbed is not None:
            walk.removed.append("the location properties of an XMP packet")
        new = scrubbed if scrubbed is not None else packet
        for old_guid, new_guid in renamed.items():
            new = new.replace(old_guid, new_guid)
        if new != packet:
            payload = xmp_location.XMP_HEADER + new
            walk.edits.append((segment.start, segment.end, _segment(APP1, payload, "XMP")))


def _scrub_extended(walk: _Walk, guid: bytes, segments: list[_Segment]) -> bytes | None:
    """Rewrite the extended XMP named ``guid`` without its location: its new GUID (the MD5 of
    the new packet, as the standard has it), or None when it is left as it is."""
    chunks: dict[int, bytes] = {}
    total = 0
    for segment in segments:
        header = segment.payload[_EXTENSION_HEADER - 8 : _EXTENSION_HEADER]
        total, offset = struct.unpack(">II", header)
        chunks[offset] = segment.payload[_EXTENSION_HEADER:]
    packet = b""
    for offset in sorted(chunks):
        if offset != len(packet):
            break
        packet += chunks[offset]
    if len(packet) != total:
        # Readers skip an incomplete extension; one that mentions GPS is not kept anyway.
        if xmp_location.mentions_location(b"".join(chunks.values())):
            for segment in segments:
                walk.drop(segment, "an incomplete extended XMP packet that mentions GPS")
        return None
    scrubbed = xmp_location.without_location(packet)
    if scrubbed is None:
        return None
    new_guid = hashlib.md5(scrubbed, usedforsecurity=False).hexdigest().upper().encode()
    written = b"".join(
        _segment(
            APP1,
            xmp_location.XMP_EXTENSION
            + new_guid
            + struct.pack(">II", len(scrubbed), offset)
            + scrubbed[offset : offset + _EXTENSION_CHUNK],
            "extended XMP",
        )
        for offset in range(0, len(scrubbed), _EXTENSION_CHUNK)
    )
    first, *rest = sorted(segments, key=lambda s: s.start)
    walk.edits.append((first.start, first.end, written))
    walk.edits.extend((s.start, s.end, b"") for s in rest)
    walk.removed.append("the location properties of an extended XMP packet")
    return new_guid


def _segment(marker: int, payload: bytes, what: str) -> bytes:
    if len(payload) > _MAX_PAYLOAD:
        raise LocationNotRemovable(
            f"The {what} rewritten without its location is larger than a JPEG segment holds"
        )
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload
