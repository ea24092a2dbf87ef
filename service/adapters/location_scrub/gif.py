"""A GIF without its location. GIF has no EXIF; some tools put XMP in an application extension
("XMP DataXMP": the packet written raw, its bytes read as sub-blocks, then a landing zone that
brings any reader to the extension's end). Its blocks are walked to the trailer byte: the XMP
packet loses its location properties and gets a new landing zone; every other block, the image
data among them, is copied as it is, and whatever follows the trailer is not kept.
"""

from __future__ import annotations

import re

from service.adapters.location_scrub import xmp_location
from service.adapters.location_scrub.source import Source
from service.domain.errors import InvalidImage
from service.domain.scrub import Scrubbed

EXTENSION, IMAGE, TRAILER = b"\x21", b"\x2c", b"\x3b"
APPLICATION = 0xFF
XMP_APPLICATION = b"XMP DataXMP"
LANDING_ZONE = bytes([1, *range(255, -1, -1), 0])
_PACKET_END = re.compile(rb"<\?xpacket end=['\"][wr]['\"]\?>")


def scrub(source: Source) -> Scrubbed:
    header = source.read(13, "the GIF header")
    if header[:6] not in (b"GIF87a", b"GIF89a"):
        raise InvalidImage("The file is not a GIF")
    _skip_colour_table(source, header[10])
    edits: list[tuple[int, int, bytes]] = []
    removed: list[str] = []
    while not source.at_end():
        start = source.position
        introducer = source.read(1, "a block")
        if introducer == IMAGE:
            descriptor = source.read(9, "an image descriptor")
            _skip_colour_table(source, descriptor[8])
            source.skip(1, "an image's code size")
            _sub_blocks(source, keep=False)
        elif introducer == EXTENSION:
            label, size = source.read(2, "an extension")
            identifier = source.read(size, "an extension")
            if label == APPLICATION and identifier == XMP_APPLICATION:
                raw = _sub_blocks(source, keep=True)
                packet_end = _PACKET_END.search(raw)
                packet = raw[: packet_end.end()] if packet_end else raw
                scrubbed = xmp_location.without_location(packet)
                if scrubbed is not None:
                    block = EXTENSION + bytes([APPLICATION, size]) + identifier
                    edits.append((start, source.position, block + scrubbed + LANDING_ZONE))
                    removed.append("the location properties of the XMP extension")
            else:
                _sub_blocks(source, keep=False)
        else:  # the trailer, or a byte that starts no block: where readers stop
            end = source.position if introducer == TRAILER else start
            if end < source.position or not source.at_end():
                removed.append("the data after the GIF's end")
            return Scrubbed.of(edits, end, removed)
    return Scrubbed.of(edits, source.position, removed)


def _sub_blocks(source: Source, *, keep: bool) -> bytes:
    """Read sub-blocks up to their terminator; with ``keep``, their bytes, length bytes
    included (how XMP is read from them)."""
    kept = []
    while size := source.read(1, "a sub-block")[0]:
        if keep:
            kept.append(bytes([size]) + source.metadata(size, "the XMP extension"))
        else:
            source.skip(size, "a sub-block")
    return b"".join(kept)


def _skip_colour_table(source: Source, flags: int) -> None:
    if flags & 0x80:
        source.skip(3 << ((flags & 0x07) + 1), "a colour table")
