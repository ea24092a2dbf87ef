"""Images made on the fly for tests (real encoders, no binary fixtures in the repository)."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def encode(fmt: str = "JPEG", size: tuple[int, int] = (32, 24), color: str = "red") -> bytes:
    buffer = io.BytesIO()
    mode = "RGB" if fmt in ("JPEG", "BMP") else "RGBA"
    Image.new(mode, size, color).save(buffer, format=fmt)
    return buffer.getvalue()


def jpeg(size: tuple[int, int] = (32, 24), color: str = "red") -> bytes:
    return encode("JPEG", size, color)


def png(size: tuple[int, int] = (32, 24), color: str = "blue") -> bytes:
    return encode("PNG", size, color)


def animated(fmt: str = "GIF", frames: int = 3, size: tuple[int, int] = (8, 8)) -> bytes:
    images = [Image.new("RGB", size, (i * 40 % 256, 0, 0)) for i in range(frames)]
    buffer = io.BytesIO()
    images[0].save(buffer, format=fmt, save_all=True, append_images=images[1:], duration=50)
    return buffer.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )
