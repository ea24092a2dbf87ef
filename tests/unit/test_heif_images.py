"""HEIC (pillow-heif) and AVIF (Pillow's plugin) through the processor: identified by their
content type and size, from the whole file or its header alone; their EXIF read; renditions
and placeholders made from them; their decodes estimated from the header and held to the
budgets. The files are made here (tests/support/heif_images.py)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from service.adapters.decode_measures import decoded_bytes
from service.adapters.pillow_processor import PillowImageProcessor
from service.domain.errors import ImageTooLarge, InvalidImage, UnsupportedImage
from service.domain.model import ACCEPTED_CONTENT_TYPES
from service.domain.sessions import HEADER_BYTES
from service.settings import Settings
from tests.support import heif_images as heif
from tests.support.located_images import pixels

MiB = 1024 * 1024
# A worker that decodes one large image at a time can be given a budget this size.
WORKER_BUDGET = 512 * MiB
FORMATS = pytest.mark.parametrize("fmt", ["HEIF", "AVIF"], ids=["heic", "avif"])


def processor(
    *, max_decoded_bytes: int | None = None, max_lossless_decoded_bytes: int | None = None
) -> PillowImageProcessor:
    return PillowImageProcessor(
        max_pixels=50_000_000,
        max_frames=10,
        max_decoded_bytes=max_decoded_bytes,
        max_lossless_decoded_bytes=max_lossless_decoded_bytes,
    )


@FORMATS
def test_inspect_reports_the_content_type_and_size(fmt: str) -> None:
    data = heif.encoded(fmt, pixels((64, 48)))

    info = processor().inspect(io.BytesIO(data), accepted=ACCEPTED_CONTENT_TYPES)

    assert (info.content_type, info.width, info.height, info.frames) == (
        heif.CONTENT_TYPES[fmt],
        64,
        48,
        1,
    )


@FORMATS
def test_a_format_not_accepted_is_refused_before_it_is_decoded(fmt: str) -> None:
    data = heif.encoded(fmt)

    with pytest.raises(UnsupportedImage, match=f"{heif.CONTENT_TYPES[fmt]} is not accepted"):
        processor().inspect(io.BytesIO(data), accepted=("image/jpeg",))


@FORMATS
def test_the_header_alone_tells_the_content_type_size_and_frames(fmt: str) -> None:
    data = heif.encoded(fmt, heif.noise((320, 240)), quality=95)
    assert len(data) > HEADER_BYTES  # the image data runs past the header

    info = processor().inspect_header(io.BytesIO(data[:HEADER_BYTES]))

    assert (info.content_type, info.width, info.height, info.frames) == (
        heif.CONTENT_TYPES[fmt],
        320,
        240,
        1,
    )


def test_an_avif_sequence_has_its_frames_counted_from_the_header() -> None:
    frames = [heif.noise((160, 120)) for _ in range(3)]
    data = heif.encoded("AVIF", frames[0], save_all=True, append_images=frames[1:], quality=95)
    assert len(data) > HEADER_BYTES
    header = data[:HEADER_BYTES]

    assert processor().inspect_header(io.BytesIO(header)).frames == 3
    with pytest.raises(ImageTooLarge, match="3 frames; the limit is 2"):
        PillowImageProcessor(max_pixels=50_000_000, max_frames=2).inspect_header(io.BytesIO(header))


def test_an_avif_header_without_its_meta_box_is_no_image() -> None:
    with pytest.raises(InvalidImage, match="not an image in a recognised format"):
        processor().inspect_header(io.BytesIO(b"\x00\x00\x00\x18ftypavif" + bytes(100)))


@FORMATS
def test_the_exif_tells_the_camera_the_time_taken_and_the_position(fmt: str) -> None:
    data = heif.located(fmt)

    info = processor().inspect(io.BytesIO(data), accepted=ACCEPTED_CONTENT_TYPES)

    assert info.exif is not None
    assert (info.exif.make, info.exif.model) == ("Apple", "iPhone 15 Pro")
    assert info.exif.taken_at == heif.TAKEN_AT
    assert info.exif.gps_present
    assert info.location is not None
    assert (round(info.location.latitude, 4), round(info.location.longitude, 4)) == (
        48.8582,
        2.2944,
    )


@FORMATS
@pytest.mark.parametrize("rendition", ["jpeg", "webp"])
def test_renditions_come_out_as_asked_and_upright(fmt: str, rendition: str) -> None:
    """A portrait photo stored sideways (EXIF orientation 6): HEIC's decoder turns it (libheif
    applies the rotation the file states), AVIF's leaves that to the rendition."""
    data = heif.encoded(fmt, pixels((96, 48)), exif=heif.phone_exif(orientation=6))

    made = processor().render(io.BytesIO(data), 32, rendition)

    assert (made.format, made.content_type) == (rendition, f"image/{rendition}")
    with Image.open(io.BytesIO(made.data)) as image:
        assert image.format == rendition.upper()
        assert image.size == (made.width, made.height) == (16, 32)
        # Red on the left of the sideways image: on top once upright.
        red, _, blue = image.convert("RGB").getpixel((8, 4))  # type: ignore[misc]
        assert red > 200 > blue


@FORMATS
def test_a_placeholder_is_made_from_a_rendition(fmt: str) -> None:
    made = processor().render(io.BytesIO(heif.encoded(fmt)), 32, "jpeg")

    placeholder = processor().placeholder(made.data)

    assert len(placeholder.blurhash) == 28  # 4x3 components
    red, blue = int(placeholder.dominant_color[1:3], 16), int(placeholder.dominant_color[5:7], 16)
    assert max(red, blue) > 200 > min(red, blue)  # one of the halves


@FORMATS
def test_the_decode_estimate_counts_the_planes_and_every_copy(fmt: str) -> None:
    """8 bits 4:2:0 RGB: 1.5 bytes a pixel of planes, 3 a copy (two for HEIC, three for AVIF),
    and the file, which the plugins read whole."""
    data = heif.encoded(fmt, pixels((64, 48)))
    copies = {"HEIF": 2, "AVIF": 3}[fmt]

    with Image.open(io.BytesIO(data)) as image:
        estimate = decoded_bytes(image, image.size, io.BytesIO(data))

    assert estimate == 64 * 48 * (3 * copies + 1.5) + len(data)


def test_a_48_megapixel_heic_fits_a_worker_budget_and_not_the_api_default() -> None:
    """The header of an 8064x6048 HEIC (a phone's 48 MP photo): its decode estimate is read
    from the header, no pixel decoded."""
    data = heif.declaring(heif.encoded("HEIF", Image.new("RGB", (64, 48), "gray")), 8064, 6048)
    api_budget = Settings().max_decoded_bytes
    assert api_budget == 128 * MiB

    with Image.open(io.BytesIO(data[:HEADER_BYTES])) as image:
        assert image.size == (8064, 6048)
        estimate = decoded_bytes(image, image.size, io.BytesIO(data))

    assert api_budget < estimate <= WORKER_BUDGET
    with pytest.raises(ImageTooLarge, match="the limit is 134217728 bytes"):
        processor(max_decoded_bytes=api_budget).inspect(
            io.BytesIO(data), accepted=ACCEPTED_CONTENT_TYPES
        )
    # Past the budget, to the decode: which finds the small picture the header does not declare.
    with pytest.raises(InvalidImage, match="truncated or corrupt"):
        processor(max_decoded_bytes=WORKER_BUDGET).inspect(
            io.BytesIO(data), accepted=ACCEPTED_CONTENT_TYPES
        )


def test_the_lossless_budget_does_not_apply_to_heic_or_avif() -> None:
    """Their estimate counts every copy a decode holds: the decoded-bytes budget applies, even
    to a lossless AVIF."""
    data = heif.encoded("AVIF", pixels((64, 48)), quality=100)
    strict_lossless = processor(max_decoded_bytes=64 * MiB, max_lossless_decoded_bytes=1)

    assert strict_lossless.inspect(io.BytesIO(data), accepted=ACCEPTED_CONTENT_TYPES).width == 64
