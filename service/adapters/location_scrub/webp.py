"""A WebP without its location. Its RIFF chunks are walked: the ``EXIF`` chunk is rewritten
without its GPS IFD and the ``XMP `` chunk without its location properties (the RIFF size
follows); every other chunk, the image data among them, is copied as it is. Whatever follows
the RIFF's end is not kept.
"""

from __future__ import annotations

import struct

from service.adapters.location_scrub import exif_gps, xmp_location
from service.adapters.location_scrub.source import Source
from service.domain.errors import InvalidImage
from service.domain.scrub import Scrubbed


def scrub(source: Source) -> Scrubbed:
    header = source.read(12, "the RIFF header")
    riff, size, webp = struct.unpack("<4sI4s", header)
    if (riff, webp) != (b"RIFF", b"WEBP"):
        raise InvalidImage("The file is not a WebP")
    end = 8 + size
    edits: list[tuple[int, int, bytes]] = []
    removed: list[str] = []
    while source.position + 8 <= end and not source.at_end():
        start = source.position
        kind, length = struct.unpack("<4sI", source.read(8, "a chunk header"))
        padded = length + (length & 1)
        if kind not in (b"EXIF", b"XMP "):
            source.skip(padded, "a chunk")
            continue
        body = source.metadata(length, f"the {kind.decode().strip()} chunk")
        source.skip(padded - length, "a chunk's padding")
        if kind == b"EXIF":
            try:
                rewritten = exif_gps.without_gps(body)
            except exif_gps.UnreadableExif:
                rewritten = None  # nothing, a reader included, finds GPS in it
            what = "the GPS IFD of the EXIF chunk"
        else:
            rewritten = xmp_location.without_location(body)
            what = "the location properties of the XMP chunk"
        if rewritten is not None:
            chunk = struct.pack("<4sI", kind, len(rewritten)) + rewritten
            edits.append((start, source.position, chunk + b"\x00" * (len(rewritten) & 1)))
            removed.append(what)
    # Fewer bytes than a chunk header may be left inside the RIFF; or the file ends before it.
    source.skip(len(source.peek(max(0, end - source.position))), "the RIFF")
    end = source.position
    if not source.at_end():
        removed.append("the data after the RIFF's end")
    if edits:
        change = sum(len(data) - (stop - start) for start, stop, data in edits)
        edits.insert(0, (4, 8, struct.pack("<I", end - 8 + change)))
    return Scrubbed.of(edits, end, removed)
