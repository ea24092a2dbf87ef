"""Removing the location from an upload without re-encoding it: wherever in the file a reader
such as exiftool finds a position, that metadata is rewritten without it (or dropped, where it
is not the image's own), and every byte of the image data is kept as it is.

``without_location`` reads the upload once, front to back, from bytes or a stream, and says
which bytes to keep and which to write (``service.domain.scrub.Scrubbed``): an upload too
large to hold is rewritten where it lies. LocationNotRemovable when a location cannot be
removed that way; InvalidImage when the container's structure is broken.

JPEG (``jpeg``), PNG (``png``), WebP (``webp``) and HEIF, HEIC and AVIF (``heif``) carry EXIF
and XMP; GIF (``gif``) only XMP. Any other file is stored as it is.
"""

from __future__ import annotations

from service.adapters.location_scrub import gif, heif, jpeg, png, webp
from service.adapters.location_scrub.source import Source
from service.domain.scrub import Scrubbed
from service.ports import Readable


def without_location(stream: Readable) -> Scrubbed:
    """How to store the upload in ``stream`` (read from where it is to its end, or to where
    the image ends) without its location."""
    source = Source(stream)
    start = source.peek(12)
    if start.startswith(b"\xff\xd8"):
        return jpeg.scrub(source)
    if start.startswith(png.SIGNATURE):
        return png.scrub(source)
    if start[:4] == b"RIFF" and start[8:12] == b"WEBP":
        return webp.scrub(source)
    if start[:6] in (b"GIF87a", b"GIF89a"):
        return gif.scrub(source)
    if heif.is_heif(start):
        return heif.scrub(source)
    while not source.at_end():
        source.skip(len(source.peek(1 << 20)), "the file")
    return Scrubbed.unchanged(source.position)
