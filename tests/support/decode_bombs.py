"""Small files that decode to a lot: the cases of the decoding memory budget.

Most are assembled byte by byte, so making them costs neither the memory nor the time that
decoding them would. Nothing here is kept in the repository: tests make them on the fly.
"""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

_PNG_COLOUR_TYPES = {"L": (0, 1), "RGB": (2, 3), "RGBA": (6, 4)}


def _deflate(row: bytes, times: int) -> bytes:
    """``row`` repeated, compressed as zlib data without ever holding the repetition."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 15, 8, zlib.Z_RLE)  # fast on long runs
    return b"".join(compressor.compress(row) for _ in range(times)) + compressor.flush()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def solid_png(width: int, height: int, mode: str = "RGBA") -> bytes:
    """A valid PNG of one colour, compressed row by row (7000x7000 RGBA: about 200 KB)."""
    colour_type, bands = _PNG_COLOUR_TYPES[mode]
    data = _deflate(b"\x00" + b"\x40" * (width * bands), height)  # filter "none", pixels
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", data)
        + _png_chunk(b"IEND", b"")
    )


def solid_webp(width: int, height: int, *, lossless: bool, mode: str = "RGB") -> bytes:
    """Encoded by libwebp (a lossless 7000x7000 one is about 1.9 KB; encoding it takes a
    second and about 500 MB, in the process that makes it)."""
    buffer = io.BytesIO()
    Image.new(mode, (width, height), (40, 90, 160)).save(
        buffer, format="WEBP", lossless=lossless, quality=80
    )
    return buffer.getvalue()


# LZW data of a single pixel of colour 0, minimum code size 2: the codes clear (4), 0 and
# end of information (5), three bits each, least significant bit first.
_ONE_PIXEL_LZW = bytes([2, 2, 0x44, 0x01, 0])


def many_frame_gif(frames: int, size: tuple[int, int] = (16, 16)) -> bytes:
    """A GIF of ``frames`` frames of one pixel each: 23 bytes a frame (400,000: 9.2 MB)."""
    width, height = size
    screen = struct.pack("<HHBBB", width, height, 0x80, 0, 0)  # global table of 2 colours
    palette = b"\x00\x00\x00\xff\xff\xff"
    frame = (
        b"\x21\xf9\x04\x00\x01\x00\x00\x00"  # graphic control: 10 ms, no transparency
        + b"\x2c"
        + struct.pack("<HHHHB", 0, 0, 1, 1, 0)  # image descriptor: 1x1 at the origin
        + _ONE_PIXEL_LZW
    )
    return b"GIF89a" + screen + palette + frame * frames + b"\x3b"


def rle_bmp(width: int, height: int) -> bytes:
    """An 8-bit run-length encoded BMP of one colour (7000x7000: about 400 KB)."""
    row = b""
    left = width
    while left:
        run = min(left, 255)
        row += bytes([run, 1])
        left -= run
    data = (row + b"\x00\x00") * height + b"\x00\x01"  # end of line ... end of bitmap
    palette = b"\x00\x00\x00\x00" + b"\xa0\x60\x20\x00"
    offset = 14 + 40 + len(palette)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 8, 1, len(data), 2835, 2835, 2, 0)
    header = b"BM" + struct.pack("<IHHI", offset + len(data), 0, 0, offset)
    return header + info + palette + data


def deflate_tiff(width: int, height: int) -> bytes:
    """An RGB TIFF of one colour in one deflate-compressed strip (7000x7000: about 150 KB)."""
    strip = _deflate(b"\x80" * (width * 3), height)
    entries = [  # (tag, type, count, value); type 3 = SHORT, 4 = LONG
        (256, 4, 1, width),
        (257, 4, 1, height),
        (258, 3, 3, 0),  # bits per sample: 8, 8, 8 at an offset, filled in below
        (259, 3, 1, 8),  # deflate
        (262, 3, 1, 2),  # RGB
        (273, 4, 1, 0),  # strip offset, filled in below
        (277, 3, 1, 3),
        (278, 4, 1, height),
        (279, 4, 1, len(strip)),
        (284, 3, 1, 1),
    ]
    ifd_size = 2 + 12 * len(entries) + 4
    bits_offset = 8 + ifd_size
    strip_offset = bits_offset + 6
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        if tag == 258:
            value = bits_offset
        elif tag == 273:
            value = strip_offset
        if kind == 3 and count == 1:
            ifd += struct.pack("<HHIHH", tag, kind, count, value, 0)
        else:
            ifd += struct.pack("<HHII", tag, kind, count, value)
    ifd += struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<HHH", 8, 8, 8) + strip
