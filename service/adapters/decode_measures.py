"""What a decode will hold, read from an image's header before any pixel is decoded: the
decoded bytes at the scale it will be decoded at, whether the lossless budget applies, the
frames of a GIF counted up to a cap."""

from __future__ import annotations

import io
import math
from typing import BinaryIO

from PIL import Image, ImageMode
from PIL.JpegImagePlugin import JpegImageFile

# libwebp's animation decoder, through which Pillow reads every WebP, decodes into a canvas of
# 4 bytes a pixel, keeps a second canvas for the next frame and hands Pillow a copy, which
# Pillow decodes into its own image: four times 4 bytes a pixel, all held at once.
WEBP_BYTES_PER_PIXEL = 4 * 4
# A WebP names its first frame's bitstream within its first few chunks (VP8X, ICCP, ANIM, ANMF).
_WEBP_CHUNKS_SEARCHED = 16


def decoded_bytes(image: Image.Image, full_size: tuple[int, int]) -> int:
    """The bytes a decode of ``image`` holds at once, from its header: width x height x bands
    (x bytes a band) at the scale it will be decoded at (a JPEG's draft scale), plus what its
    decoder holds besides (WebP's canvases, a progressive JPEG's coefficients)."""
    width, height = image.size
    if image.format == "WEBP":
        return width * height * WEBP_BYTES_PER_PIXEL
    mode = ImageMode.getmode(image.mode)
    total = width * height * len(mode.bands) * int(mode.typestr[-1])
    if isinstance(image, JpegImageFile) and image.info.get("progressive"):
        total += _coefficient_bytes(image, full_size)
    return total


def _coefficient_bytes(image: JpegImageFile, full_size: tuple[int, int]) -> int:
    """A progressive JPEG is decoded scan by scan into every DCT coefficient of the image (2
    bytes a sample, at full size whatever the draft scale, chroma as subsampled)."""
    width, height = full_size
    h_max = max((h for _, h, _, _ in image.layer), default=1) or 1
    v_max = max((v for _, _, v, _ in image.layer), default=1) or 1
    blocks = sum(
        math.ceil(width * h / h_max / 8) * math.ceil(height * v / v_max / 8)
        for _, h, v, _ in image.layer
    )
    return blocks * 64 * 2


def is_lossless(image: Image.Image, body: BinaryIO) -> bool:
    """Whether the decode falls under the lossless budget: every format but JPEG and a WebP
    whose first frame is lossy (the only frame decoded)."""
    if image.format == "JPEG":
        return False
    if image.format == "WEBP":
        return webp_bitstream(body) != b"VP8 "
    return True


def webp_bitstream(body: BinaryIO) -> bytes | None:
    """The chunk holding a WebP's first frame, from the RIFF headers: ``b"VP8 "`` (lossy),
    ``b"VP8L"`` (lossless) or None if not found near the start."""
    position = body.tell()
    try:
        body.seek(12)  # past "RIFF", the file size and "WEBP"
        for _ in range(_WEBP_CHUNKS_SEARCHED):
            header = body.read(8)
            if len(header) < 8:
                return None
            fourcc, size = header[:4], int.from_bytes(header[4:], "little")
            if fourcc in (b"VP8 ", b"VP8L"):
                return fourcc
            if fourcc == b"ANMF":
                body.seek(16, io.SEEK_CUR)  # the frame's position, size, duration, flags
            else:
                body.seek(size + (size & 1), io.SEEK_CUR)  # chunks are padded to even sizes
        return None
    finally:
        body.seek(position)


def count_gif_frames(body: BinaryIO, limit: int) -> int:
    """The frames (image descriptors) of a GIF, counted up to ``limit`` without decoding any.

    Counting stops at the trailer, at the end of the data, or at a byte that starts no block;
    EOFError if the data ends inside a block (a truncated file).
    """
    position = body.tell()
    try:
        end = body.seek(0, io.SEEK_END)
        body.seek(0)
        header = _read_exactly(body, 13)  # signature and logical screen descriptor
        _skip_colour_table(body, header[10])
        frames = 0
        while frames < limit:
            introducer = body.read(1)
            if introducer == b",":  # image descriptor
                descriptor = _read_exactly(body, 9)
                _skip_colour_table(body, descriptor[8])
                _read_exactly(body, 1)  # LZW minimum code size
                _skip_sub_blocks(body, end)
                frames += 1
            elif introducer == b"!":  # extension: a label, then sub-blocks
                _read_exactly(body, 1)
                _skip_sub_blocks(body, end)
            else:
                break
        return frames
    finally:
        body.seek(position)


def _read_exactly(body: BinaryIO, size: int) -> bytes:
    data = body.read(size)
    if len(data) < size:
        raise EOFError("the GIF ends inside a block")
    return data


def _skip_colour_table(body: BinaryIO, flags: int) -> None:
    if flags & 0x80:
        body.seek(3 << ((flags & 0x07) + 1), io.SEEK_CUR)


def _skip_sub_blocks(body: BinaryIO, end: int) -> None:
    while size := _read_exactly(body, 1)[0]:
        if body.seek(size, io.SEEK_CUR) > end:
            raise EOFError("the GIF ends inside a block")
