"""What a decode will hold, read from an image's header before any pixel is decoded: the
decoded bytes at the scale it will be decoded at, whether the lossless budget applies, the
frames of a GIF counted up to a cap; and what the header of an AVIF says when Pillow cannot
open the first bytes of one (its plugin reads the whole file)."""

from __future__ import annotations

import io
import math
from typing import BinaryIO

from PIL import Image, ImageMode
from PIL.JpegImagePlugin import JpegImageFile

from service.adapters.location_scrub import isobmff

# libwebp's animation decoder, through which Pillow reads every WebP, decodes into a canvas of
# 4 bytes a pixel, keeps a second canvas for the next frame and hands Pillow a copy, which
# Pillow decodes into its own image: four times 4 bytes a pixel, all held at once.
WEBP_BYTES_PER_PIXEL = 4 * 4
# A WebP names its first frame's bitstream within its first few chunks (VP8X, ICCP, ANIM, ANMF).
_WEBP_CHUNKS_SEARCHED = 16
# HEIF (pillow-heif, libheif) and AVIF (Pillow's plugin, libavif) are decoded whole, never at a
# draft scale, each from the whole file read into memory. Besides the decoder's picture (its
# planes: ``isobmff.Coding``), libheif converts it into an interleaved RGB(A) image, which
# Pillow copies into its own: two images of the output mode. libavif converts it into an RGB(A)
# buffer that Pillow's plugin copies into a bytes object, decoded in turn into Pillow's image:
# three.
ISOBMFF_OUTPUT_COPIES = {"HEIF": 2, "AVIF": 3}
# The planes of a picture whose coding the meta box does not show: 4:4:4, above 8 bits.
_WORST_CODING = isobmff.Coding(half_samples=6, sample_bytes=2)
# A meta box read to find the coding: larger ones (thousands of items) are not read.
_META_READ = 1024 * 1024


def decoded_bytes(image: Image.Image, full_size: tuple[int, int], body: BinaryIO) -> int:
    """The bytes a decode of ``image`` (read from ``body``) holds at once, from its header:
    width x height x bands (x bytes a band) at the scale it will be decoded at (a JPEG's draft
    scale), plus what its decoder holds besides (WebP's canvases, a progressive JPEG's
    coefficients, the planes and copies of a HEIF or AVIF decode)."""
    width, height = image.size
    if image.format == "WEBP":
        return width * height * WEBP_BYTES_PER_PIXEL
    mode = ImageMode.getmode(image.mode)
    pixel = len(mode.bands) * int(mode.typestr[-1])
    if image.format in ISOBMFF_OUTPUT_COPIES:
        coding = _coding(body)
        half_samples = coding.half_samples + (2 if "A" in mode.bands else 0)  # an alpha plane
        copies = ISOBMFF_OUTPUT_COPIES[image.format] * pixel * 2
        return width * height * (copies + half_samples * coding.sample_bytes) // 2 + _size(body)
    total = width * height * pixel
    if isinstance(image, JpegImageFile) and image.info.get("progressive"):
        total += _coefficient_bytes(image, full_size)
    return total


def avif_header(header: BinaryIO) -> tuple[int, int, int] | None:
    """Width, height (as coded, before any rotation) and frames of the AVIF whose first bytes
    are ``header``, from its meta box (and the tracks of a sequence, where ``header`` reaches
    them); None when it is no AVIF or does not say."""
    start = header.read(64)
    header.seek(0)
    if not isobmff.is_avif(start):
        return None
    boxes = isobmff.top_level(header, (b"meta", b"moov"), _META_READ)
    try:
        size = isobmff.primary_size(boxes[b"meta"]) if b"meta" in boxes else None
        frames = isobmff.sample_count(boxes[b"moov"]) if b"moov" in boxes else 1
    except isobmff.BoxError:
        return None
    return None if size is None else (*size, max(frames, 1))


def _coding(body: BinaryIO) -> isobmff.Coding:
    """The costliest of the codings a HEIF or AVIF file's meta box declares."""
    meta = isobmff.top_level(body, (b"meta",), _META_READ).get(b"meta")
    try:
        codings = isobmff.codings(meta) if meta else []
    except isobmff.BoxError:
        codings = []
    return max(codings, key=lambda c: c.half_samples * c.sample_bytes, default=_WORST_CODING)


def _size(body: BinaryIO) -> int:
    position = body.tell()
    try:
        return body.seek(0, io.SEEK_END)
    finally:
        body.seek(position)


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
    """Whether the decode falls under the lossless budget: every format but JPEG, a WebP
    whose first frame is lossy (the only frame decoded), HEIF and AVIF (whose decoded bytes
    count every copy the decode holds)."""
    if image.format in ("JPEG", *ISOBMFF_OUTPUT_COPIES):
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
