"""Test images: bytes made on the fly with real encoders (no binary fixtures in the
repository), and image records for repository tests (metadata only, no bytes)."""

from __future__ import annotations

import io
import os
import struct
import zlib
from datetime import UTC, datetime, timedelta

from PIL import Image as PILImage

from service.domain.model import Image, ImageStatus, new_image_id
from service.ports import ImageRepository


def encode(fmt: str = "JPEG", size: tuple[int, int] = (32, 24), color: str = "red") -> bytes:
    buffer = io.BytesIO()
    mode = "RGB" if fmt in ("JPEG", "BMP") else "RGBA"
    PILImage.new(mode, size, color).save(buffer, format=fmt)
    return buffer.getvalue()


def jpeg(size: tuple[int, int] = (32, 24), color: str = "red") -> bytes:
    return encode("JPEG", size, color)


def sideways_jpeg(
    stored: tuple[int, int] = (600, 300),
    *,
    gps: bool = True,
    taken: str | None = "2024:05:06 07:08:09",
    offset: str | None = "+02:00",
) -> bytes:
    """A JPEG stored on its side, with EXIF Orientation 6 (turn 90 degrees clockwise to
    display): the stored left half is red, the right half blue, so an upright rendition is red
    on top and blue below. With camera EXIF, a capture time and (``gps``) a GPS position."""
    width, height = stored
    pixels = PILImage.new("RGB", stored, "blue")
    pixels.paste(PILImage.new("RGB", (width // 2, height), "red"), (0, 0))
    exif = PILImage.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "EOS R5"
    exif[0x0112] = 6
    details = exif.get_ifd(0x8769)
    if taken is not None:
        details[0x9003] = taken
    if offset is not None:
        details[0x9011] = offset
    details[0x829A] = 0.008
    details[0x829D] = 2.8
    details[0x8827] = 400
    details[0x920A] = 35.0
    details[0xA434] = "RF35mm F1.8"
    if gps:
        position = exif.get_ifd(0x8825)
        position[1] = "N"
        position[2] = (48.0, 51.0, 29.5)
        position[3] = "E"
        position[4] = (2.0, 17.0, 40.0)
    buffer = io.BytesIO()
    pixels.save(buffer, format="JPEG", quality=90, exif=exif.tobytes())
    return buffer.getvalue()


def scan_data(jpeg_bytes: bytes) -> bytes:
    """Everything from the JPEG's start-of-scan marker on: the entropy-coded image data."""
    return jpeg_bytes[jpeg_bytes.index(b"\xff\xda") :]


def has_gps(data: bytes) -> bool:
    with PILImage.open(io.BytesIO(data)) as image:
        return bool(image.getexif().get_ifd(0x8825))


def assert_upright_rendition(data: bytes, size: tuple[int, int]) -> None:
    """``data`` is a JPEG of ``size`` without EXIF, made upright from ``sideways_jpeg``."""
    with PILImage.open(io.BytesIO(data)) as image:
        assert (image.format, image.size) == ("JPEG", size)
        assert not image.getexif()
        rgb = image.convert("RGB")
        width, height = size
        top, bottom = rgb.getpixel((width // 2, 5)), rgb.getpixel((width // 2, height - 5))
        assert isinstance(top, tuple)
        assert isinstance(bottom, tuple)
        assert top[0] > 200 > top[2], top  # red on top
        assert bottom[2] > 200 > bottom[0], bottom  # blue below


def png(size: tuple[int, int] = (32, 24), color: str = "blue") -> bytes:
    return encode("PNG", size, color)


def png_of_size(size: int, *chunks: bytes) -> bytes:
    """A valid PNG of exactly ``size`` bytes, with ``chunks`` (whole chunks) after its header:
    random bytes fill a private ancillary chunk (decoders skip it) before IEND, so that large,
    unique files are cheap to make."""
    data = png()
    head, end = data[:33] + b"".join(chunks) + data[33:-12], data[-12:]  # 33: signature, IHDR
    filler = size - len(head) - len(end) - 12
    if filler < 0:
        raise ValueError(f"a PNG of these chunks takes more than {size} bytes")
    return head + png_chunk(b"prVt", os.urandom(filler)) + end


def png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def animated(fmt: str = "GIF", frames: int = 3, size: tuple[int, int] = (8, 8)) -> bytes:
    images = [PILImage.new("RGB", size, (i * 40 % 256, 0, 0)) for i in range(frames)]
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


START = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def make_image(
    minutes: int = 0,
    *,
    user: str = "alice",
    tags: tuple[str, ...] = (),
    content_type: str = "image/jpeg",
    status: ImageStatus = ImageStatus.READY,
) -> Image:
    created = START + timedelta(minutes=minutes)
    return Image(
        image_id=new_image_id(created),
        user_id=user,
        content_type=content_type,
        size_bytes=10,
        width=2,
        height=3,
        sha256="0" * 64,
        original_filename="photo.jpg",
        created_at=created,
        updated_at=created,
        description="d",
        tags=tags,
        metadata={"camera": "x", "iso": 200, "ratio": 1.5, "flag": True, "none": None},
        status=status,
    )


def add_ready(repository: ImageRepository, image: Image) -> Image:
    """Publish ``image``, as a finished upload leaves it."""
    return repository.publish(image)
