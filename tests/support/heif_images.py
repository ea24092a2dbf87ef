"""HEIC and AVIF files made here, no binary fixture: pillow-heif encodes HEIC and Pillow AVIF,
with a phone's EXIF (make, model, date taken, a GPS position) and an XMP packet that holds a
position; and the same files edited box by box (an item stored another way, a header that
declares another size than it codes, boxes added)."""

from __future__ import annotations

import io
import os
import struct

from PIL import Image

# Importing the processor registers pillow-heif's plugin, with the processor's options.
from service.adapters import pillow_processor  # noqa: F401
from service.adapters.location_scrub import isobmff
from tests.support.located_images import GPS_PROPERTIES, PARIS, pixels, xmp_packet

MAKE, MODEL, ORIENTATION = 0x010F, 0x0110, 0x0112
EXIF_IFD, GPS_IFD = 0x8769, 0x8825
DATE_TIME_ORIGINAL, OFFSET_TIME_ORIGINAL = 0x9003, 0x9011
TAKEN_AT = "2024-05-01T10:20:30+02:00"
CONTENT_TYPES = {"HEIF": "image/heic", "AVIF": "image/avif"}


def phone_exif(*, gps: bool = True, orientation: int = 1) -> bytes:
    """``Exif\\0\\0`` and a TIFF block as a phone writes one: make, model, orientation, the
    date taken (in the Exif sub-IFD) and, with ``gps``, a position."""
    exif = Image.Exif()
    exif[MAKE] = "Apple"
    exif[MODEL] = "iPhone 15 Pro"
    exif[ORIENTATION] = orientation
    details = exif.get_ifd(EXIF_IFD)
    details[DATE_TIME_ORIGINAL] = "2024:05:01 10:20:30"
    details[OFFSET_TIME_ORIGINAL] = "+02:00"
    if gps:
        exif.get_ifd(GPS_IFD).update({1: "N", 2: PARIS[0], 3: "E", 4: PARIS[1]})
    return exif.tobytes()


def encoded(fmt: str, image: Image.Image | None = None, **options: object) -> bytes:
    """``image`` (red and blue halves by default) as a HEIC (``fmt`` "HEIF") or an AVIF."""
    buffer = io.BytesIO()
    (image or pixels((64, 48))).save(buffer, format=fmt, **options)
    return buffer.getvalue()


def located(fmt: str, image: Image.Image | None = None, **options: object) -> bytes:
    """A HEIC or AVIF whose EXIF item has a GPS IFD and whose XMP item has a position."""
    xmp = xmp_packet(GPS_PROPERTIES)
    return encoded(fmt, image, exif=phone_exif(), xmp=xmp, **options)


def noise(size: tuple[int, int]) -> Image.Image:
    """Pixels that do not compress: a file larger than its header from few pixels."""
    return Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def declaring(data: bytes, width: int, height: int) -> bytes:
    """``data`` whose ``ispe`` and ``clap`` properties declare ``width`` x ``height``: the
    header of a file that size (its coded picture is still the small one)."""
    edited = bytearray(data)
    meta = _meta(data)
    for prop in _properties(data, meta):
        if prop.kind == b"ispe":
            struct.pack_into(">II", edited, prop.body + 4, width, height)
        elif prop.kind == b"clap":  # the clean aperture: all of it, centred
            struct.pack_into(">8I", edited, prop.body, width, 1, height, 1, 0, 1, 0, 1)
    return bytes(edited)


def with_items_constructed(data: bytes, method: int, *, kinds: tuple[bytes, ...]) -> bytes:
    """``data`` whose ``iloc``, rewritten as version 1, says the items of ``kinds`` are
    constructed with ``method`` (1: from idat, 2: from other items); the offsets of the others
    follow the meta box's new size."""
    meta = _meta(data)
    items = isobmff.items(data[meta.start : meta.end])
    old = next(b for b in isobmff.children(data, meta.body + 4, meta.end) if b.kind == b"iloc")
    shift = 8 + 8 + 16 * len(items) - (old.end - old.start)  # one 4-byte extent an item

    def entry(item: isobmff.Item) -> bytes:
        (offset, length), constructed = item.extents[0], item.kind in kinds
        fields = (item.item_id, method if constructed else 0, 0, 1)
        return struct.pack(">HHHHII", *fields, offset + (0 if constructed else shift), length)

    iloc = box(b"iloc", struct.pack(">B3xHH", 1, 0x4400, len(items)) + b"".join(map(entry, items)))
    meta_box = data[meta.start : old.start] + iloc + data[old.end : meta.end]
    meta_box = struct.pack(">I", len(meta_box)) + meta_box[4:]
    return data[: meta.start] + meta_box + data[meta.end :]


def _meta(data: bytes) -> isobmff.Box:
    return next(b for b in isobmff.children(data, 0, len(data)) if b.kind == b"meta")


def _properties(data: bytes, meta: isobmff.Box) -> list[isobmff.Box]:
    found = []
    for child in isobmff.children(data, meta.body + 4, meta.end):
        if child.kind == b"iprp":
            for ipco in isobmff.children(data, child.body, child.end):
                if ipco.kind == b"ipco":
                    found += list(isobmff.children(data, ipco.body, ipco.end))
    return found
