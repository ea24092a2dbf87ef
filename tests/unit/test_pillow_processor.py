"""PillowImageProcessor on real images made in the test."""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image

from service.adapters.pillow_processor import PillowImageProcessor
from service.domain.errors import ImageTooLarge, InvalidImage
from tests.support.images import animated, encode, jpeg, png, png_declaring

MAX_PIXELS = 4_000_000
# Every type the processor identifies, BMP and TIFF included.
EVERY_TYPE = ("image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp", "image/tiff")


@pytest.fixture
def processor(monkeypatch: pytest.MonkeyPatch) -> PillowImageProcessor:
    # The processor sets Pillow's process-wide cap; give it back after the test.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", Image.MAX_IMAGE_PIXELS)
    return PillowImageProcessor(max_pixels=MAX_PIXELS, max_frames=10)


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [
        ("JPEG", "image/jpeg"),
        ("PNG", "image/png"),
        ("GIF", "image/gif"),
        ("WEBP", "image/webp"),
        ("BMP", "image/bmp"),
        ("TIFF", "image/tiff"),
    ],
)
def test_each_format_is_identified_from_its_bytes(
    processor: PillowImageProcessor, fmt: str, content_type: str
) -> None:
    body = io.BytesIO(encode(fmt, size=(37, 21)))

    info = processor.inspect(body, accepted=EVERY_TYPE)

    assert info.content_type == content_type
    assert (info.width, info.height) == (37, 21)
    assert info.frames == 1
    assert body.tell() == 0


def test_animations_report_their_frames(processor: PillowImageProcessor) -> None:
    assert (
        processor.inspect(io.BytesIO(animated("GIF", frames=10)), accepted=EVERY_TYPE).frames == 10
    )
    assert (
        processor.inspect(io.BytesIO(animated("WEBP", frames=4)), accepted=EVERY_TYPE).frames == 4
    )


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_an_animation_over_the_frame_cap_is_too_large(
    processor: PillowImageProcessor, fmt: str
) -> None:
    with pytest.raises(ImageTooLarge, match="at least 11 frames"):
        processor.inspect(io.BytesIO(animated(fmt, frames=11)), accepted=EVERY_TYPE)


def test_a_bomb_is_rejected_from_its_header_fast(processor: PillowImageProcessor) -> None:
    started = time.perf_counter()

    with pytest.raises(ImageTooLarge, match="pixels"):
        processor.inspect(io.BytesIO(png_declaring(20000, 20000)), accepted=EVERY_TYPE)

    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(("width", "height"), [(2001, 2000), (4001, 1000), (3000, 3000)])
def test_just_above_the_pixel_cap_is_too_large(
    processor: PillowImageProcessor, width: int, height: int
) -> None:
    # Between the cap and twice the cap Pillow only warns; that is an error too.
    with pytest.raises(ImageTooLarge):
        processor.inspect(io.BytesIO(png_declaring(width, height)), accepted=EVERY_TYPE)


def test_the_pixel_cap_is_inclusive(processor: PillowImageProcessor) -> None:
    # 2000 x 2000 is exactly the cap: not too large (the fake PNG then fails to decode).
    with pytest.raises(InvalidImage):
        processor.inspect(io.BytesIO(png_declaring(2000, 2000)), accepted=EVERY_TYPE)


@pytest.mark.parametrize(
    "data",
    [jpeg((64, 64)), png((64, 64)), encode("WEBP", (64, 64))],
    ids=["jpeg", "png", "webp"],
)
def test_a_truncated_image_is_invalid(processor: PillowImageProcessor, data: bytes) -> None:
    body = io.BytesIO(data[: len(data) // 2])

    with pytest.raises(InvalidImage, match="truncated or corrupt"):
        processor.inspect(body, accepted=EVERY_TYPE)
    assert body.tell() == 0


def test_a_truncated_animated_gif_is_invalid(processor: PillowImageProcessor) -> None:
    data = animated("GIF", frames=3)

    with pytest.raises(InvalidImage):
        processor.inspect(io.BytesIO(data[: len(data) // 2]), accepted=EVERY_TYPE)


@pytest.mark.parametrize(
    "data",
    [b"", b"plain text, not an image", b"\x89PNG\r\n\x1a\n", encode("PPM"), encode("ICO")],
    ids=["empty", "text", "png-signature-only", "ppm", "ico"],
)
def test_unrecognised_bytes_are_invalid(processor: PillowImageProcessor, data: bytes) -> None:
    with pytest.raises(InvalidImage):
        processor.inspect(io.BytesIO(data), accepted=EVERY_TYPE)


def test_a_large_jpeg_is_decoded_in_draft_mode(processor: PillowImageProcessor) -> None:
    info = processor.inspect(io.BytesIO(jpeg((1600, 1200))), accepted=EVERY_TYPE)

    assert (info.width, info.height) == (1600, 1200)


def rendered(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize(
    ("size", "longest", "expected"),
    [((800, 600), 256, (256, 192)), ((600, 800), 128, (96, 128)), ((40, 30), 256, (40, 30))],
    ids=["landscape", "portrait", "never-upscaled"],
)
def test_a_rendition_fits_the_longest_side_and_keeps_the_aspect(
    processor: PillowImageProcessor,
    size: tuple[int, int],
    longest: int,
    expected: tuple[int, int],
) -> None:
    rendition = processor.render(io.BytesIO(jpeg(size)), longest, "jpeg")
    assert rendition.content_type == "image/jpeg"
    assert (rendition.width, rendition.height) == expected
    assert rendered(rendition.data).size == expected


def test_a_rendition_is_upright_and_carries_no_exif(processor: PillowImageProcessor) -> None:
    # GIVEN a landscape JPEG whose EXIF says "rotate 90°" (orientation 6) and holds a GPS tag
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x8825] = {2: (48.0, 51.0, 24.0)}
    buffer = io.BytesIO()
    Image.new("RGB", (400, 200), "red").save(buffer, format="JPEG", exif=exif)
    # WHEN a rendition is made THEN it is portrait, as shown by viewers, and has no EXIF at all
    rendition = processor.render(io.BytesIO(buffer.getvalue()), 128, "jpeg")
    assert (rendition.width, rendition.height) == (64, 128)
    assert not rendered(rendition.data).getexif()


@pytest.mark.parametrize(
    "data",
    [encode("JPEG", (300, 200)), animated("GIF", frames=3, size=(300, 200))],
    ids=["jpeg", "animated-gif"],
)
def test_other_inputs_give_a_jpeg_of_the_first_frame(
    processor: PillowImageProcessor, data: bytes
) -> None:
    rendition = processor.render(io.BytesIO(data), 64, "jpeg")
    assert rendition.content_type == "image/jpeg"
    assert rendered(rendition.data).size == (64, 43)


def test_a_grayscale_jpeg_gives_a_rendition(processor: PillowImageProcessor) -> None:
    buffer = io.BytesIO()
    Image.new("L", (500, 500), 128).save(buffer, format="JPEG")
    assert processor.render(io.BytesIO(buffer.getvalue()), 64, "jpeg").width == 64


def test_broken_bytes_give_no_rendition(processor: PillowImageProcessor) -> None:
    with pytest.raises(InvalidImage):
        processor.render(io.BytesIO(jpeg((300, 300))[:300]), 64, "jpeg")
