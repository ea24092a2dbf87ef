"""The Pillow adapter past tests/unit/test_pillow_processor.py: what an upload session's header
check refuses, colour profiles in renditions, placeholders of broken bytes, the formats this
build renders, and a WebP whose bitstream is not near its start."""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image, ImageCms

from service.adapters.decode_measures import webp_bitstream
from service.adapters.pillow_processor import PillowImageProcessor, set_process_limits
from service.domain.errors import ImageTooLarge, InvalidImage
from tests.support.images import animated, jpeg, png, png_declaring

MAX_PIXELS = 1_000_000
ORANGE = (200, 60, 30)


@pytest.fixture
def processor(monkeypatch: pytest.MonkeyPatch) -> PillowImageProcessor:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", Image.MAX_IMAGE_PIXELS)
    return PillowImageProcessor(max_pixels=MAX_PIXELS, max_frames=3)


def header(processor: PillowImageProcessor, data: bytes) -> tuple[str, int, int, int]:
    info = processor.inspect_header(io.BytesIO(data))
    return info.content_type, info.width, info.height, info.frames


# --- the header of an upload session's object -----------------------------------------------


def test_a_header_names_type_size_and_frames(processor: PillowImageProcessor) -> None:
    assert header(processor, jpeg((40, 30))) == ("image/jpeg", 40, 30, 1)
    assert header(processor, animated("GIF", frames=3)) == ("image/gif", 8, 8, 3)


def test_a_header_with_too_many_pixels_is_refused(processor: PillowImageProcessor) -> None:
    with pytest.raises(ImageTooLarge, match="2000x1000 pixels; the limit is 1000000"):
        processor.inspect_header(io.BytesIO(png_declaring(2000, 1000)))


def test_beyond_twice_pillows_own_cap_the_header_is_refused_as_too_large(
    processor: PillowImageProcessor,
) -> None:
    set_process_limits(MAX_PIXELS)  # as the wiring does

    with pytest.raises(ImageTooLarge, match="more than 1000000 pixels"):
        processor.inspect_header(io.BytesIO(png_declaring(2001, 1000)))


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_a_header_showing_more_frames_than_allowed_is_refused(
    processor: PillowImageProcessor, fmt: str
) -> None:
    with pytest.raises(ImageTooLarge, match="5 frames; the limit is 3 frames"):
        processor.inspect_header(io.BytesIO(animated(fmt, frames=5)))


def test_frames_past_the_header_are_not_counted(processor: PillowImageProcessor) -> None:
    # The first bytes of a long GIF: the frames they show, not an error.
    gif = animated("GIF", frames=50)

    assert header(processor, gif[:60])[3] == 1
    with pytest.raises(ImageTooLarge, match="frames"):
        processor.inspect_header(io.BytesIO(gif[:200]))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"hello world" * 10, "not an image in a recognised format"),
        (png()[:20], "header is unreadable"),
        (jpeg()[:30], "header is unreadable"),
    ],
    ids=["text", "png-cut-in-its-header", "jpeg-cut-in-its-header"],
)
def test_a_header_that_is_not_one_is_an_invalid_image(
    processor: PillowImageProcessor, data: bytes, message: str
) -> None:
    with pytest.raises(InvalidImage, match=message):
        processor.inspect_header(io.BytesIO(data))


# --- colour profiles ----------------------------------------------------------------------------


def swapped_primaries_profile() -> bytes:
    """sRGB with its red and blue colorants exchanged: what this profile calls red is blue."""
    icc = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    (count,) = struct.unpack(">I", icc[128:132])
    entries = {bytes(icc[132 + 12 * i : 136 + 12 * i]): 132 + 12 * i for i in range(count)}
    red, blue = entries[b"rXYZ"], entries[b"bXYZ"]
    icc[red + 4 : red + 12], icc[blue + 4 : blue + 12] = (
        icc[blue + 4 : blue + 12],
        icc[red + 4 : red + 12],
    )
    return bytes(icc)


def tagged(fmt: str, profile: bytes) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), ORANGE).save(buffer, format=fmt, icc_profile=profile, quality=95)
    return buffer.getvalue()


def centre_of(rendition: bytes) -> tuple[int, int, int]:
    with Image.open(io.BytesIO(rendition)) as image:
        assert "icc_profile" not in image.info  # sRGB, the default, goes unstated
        pixel = image.convert("RGB").getpixel((image.width // 2, image.height // 2))
    assert isinstance(pixel, tuple)
    return pixel[0], pixel[1], pixel[2]


def close(pixel: tuple[int, int, int], expected: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 8 for a, b in zip(pixel, expected, strict=True))


@pytest.mark.parametrize(("fmt", "rendition"), [("JPEG", "jpeg"), ("PNG", "webp")])
def test_a_rendition_shows_the_colours_the_embedded_profile_means(
    processor: PillowImageProcessor, fmt: str, rendition: str
) -> None:
    data = tagged(fmt, swapped_primaries_profile())

    made = processor.render(io.BytesIO(data), 16, rendition)

    assert close(centre_of(made.data), (ORANGE[2], ORANGE[1], ORANGE[0]))


def test_a_profile_that_cannot_be_read_leaves_the_colours_as_stored(
    processor: PillowImageProcessor,
) -> None:
    made = processor.render(io.BytesIO(tagged("JPEG", b"not an ICC profile")), 16, "jpeg")

    assert close(centre_of(made.data), ORANGE)


# --- placeholders and formats -----------------------------------------------------------------


def test_the_placeholder_of_bytes_that_are_no_image_is_an_invalid_image(
    processor: PillowImageProcessor,
) -> None:
    with pytest.raises(InvalidImage, match="cannot be rendered"):
        processor.placeholder(b"not a rendition")


def test_every_format_this_build_offers_renders(processor: PillowImageProcessor) -> None:
    formats = processor.formats()

    assert formats[0] == "jpeg"
    for fmt in formats:
        made = processor.render(io.BytesIO(png((64, 32))), 32, fmt)
        assert (made.format, made.content_type, made.width) == (fmt, f"image/{fmt}", 32)


# --- where a WebP's first frame is -----------------------------------------------------------


def test_a_webp_whose_bitstream_is_not_among_its_first_chunks_is_not_called_lossy() -> None:
    junk = b"".join(struct.pack("<4sI", b"JUNK", 2) + b"\x00\x00" for _ in range(16))
    vp8 = struct.pack("<4sI", b"VP8 ", 0)
    body = io.BytesIO(b"RIFF" + struct.pack("<I", 4 + len(junk) + 8) + b"WEBP" + junk + vp8)
    body.seek(5)

    assert webp_bitstream(body) is None  # and so it falls under the lossless budget
    assert body.tell() == 5
