"""Decoding within a memory budget: what is refused from the header, and the decode slots."""

from __future__ import annotations

import io
import platform
import threading
from collections.abc import Iterator

import pytest
from PIL import Image, ImageFile
from PIL.GifImagePlugin import GifImageFile

from service.adapters.decode_measures import WEBP_BYTES_PER_PIXEL, count_gif_frames, webp_bitstream
from service.adapters.decode_slots import DecodeSlots
from service.adapters.pillow_processor import PillowImageProcessor, return_freed_memory
from service.domain.errors import DecoderBusy, ImageTooLarge, InvalidImage, UnsupportedImage
from service.domain.model import ACCEPTED_CONTENT_TYPES
from tests.support import decode_bombs

MiB = 1024 * 1024


@pytest.fixture(autouse=True)
def _pillow_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 60_000_000)


@pytest.fixture
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to decode pixels fails the test."""

    def refuse(self: ImageFile.ImageFile) -> None:
        raise AssertionError(f"{self.format} pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


def processor(
    *,
    max_decoded_bytes: int = 128 * MiB,
    max_lossless_decoded_bytes: int = 64 * MiB,
    decode_slots: DecodeSlots | None = None,
) -> PillowImageProcessor:
    """The service's defaults, but for the budget or the slots a test sets."""
    return PillowImageProcessor(
        max_pixels=50_000_000,
        max_frames=200,
        max_decoded_bytes=max_decoded_bytes,
        max_lossless_decoded_bytes=max_lossless_decoded_bytes,
        decode_slots=decode_slots,
    )


def webp(
    size: tuple[int, int],
    *,
    lossless: bool,
    mode: str = "RGB",
    frames: int = 1,
    icc_profile: bytes = b"",
) -> bytes:
    images = [Image.new(mode, size, (i * 50, 90, 160)) for i in range(frames)]
    buffer = io.BytesIO()
    images[0].save(
        buffer,
        format="WEBP",
        lossless=lossless,
        save_all=frames > 1,
        append_images=images[1:],
        icc_profile=icc_profile,
    )
    return buffer.getvalue()


def jpeg(size: tuple[int, int], *, progressive: bool = False) -> bytes:
    buffer = io.BytesIO()
    Image.radial_gradient("L").resize(size).convert("RGB").save(
        buffer, format="JPEG", progressive=progressive, quality=80
    )
    return buffer.getvalue()


# -- refused formats are never decoded --------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (decode_bombs.rle_bmp(7000, 7000), "image/bmp"),
        (decode_bombs.deflate_tiff(3000, 3000), "image/tiff"),
    ],
    ids=["bmp", "tiff"],
)
def test_a_format_that_is_not_accepted_is_refused_before_any_pixel_is_read(
    no_decoding: None, data: bytes, content_type: str
) -> None:
    with pytest.raises(UnsupportedImage, match=f"{content_type} is not accepted"):
        processor().inspect(io.BytesIO(data), accepted=ACCEPTED_CONTENT_TYPES)


def test_a_rendition_is_never_made_from_a_format_that_cannot_be_stored() -> None:
    with pytest.raises(InvalidImage, match="not an image in a recognised format"):
        processor().render(io.BytesIO(decode_bombs.rle_bmp(64, 64)), 64, "jpeg")


# -- frames are counted up to the cap + 1 -----------------------------------------------------


def test_gif_frames_are_counted_like_pillow_counts_them() -> None:
    buffer = io.BytesIO()
    frames = [Image.new("RGB", (20, 10), (i * 30, 0, 255 - i * 30)) for i in range(7)]
    frames[0].save(
        buffer, format="GIF", save_all=True, append_images=frames[1:], loop=0, comment=b"hi"
    )
    body = io.BytesIO(buffer.getvalue())
    body.seek(5)

    assert count_gif_frames(body, 100) == 7
    assert body.tell() == 5  # where it was
    with Image.open(io.BytesIO(buffer.getvalue())) as image:
        assert isinstance(image, GifImageFile)
        assert image.n_frames == 7


def test_gif_frames_are_counted_no_further_than_the_limit() -> None:
    # A truncated tail is only noticed by reading that far.
    data = decode_bombs.many_frame_gif(10_000)[:-50]

    assert count_gif_frames(io.BytesIO(data), 201) == 201
    with pytest.raises(EOFError):
        count_gif_frames(io.BytesIO(data), 20_000)


def test_a_gif_of_400k_frames_is_refused_from_its_first_frames(no_decoding: None) -> None:
    data = decode_bombs.many_frame_gif(400_000)

    with pytest.raises(ImageTooLarge, match="at least 201 frames; the limit is 200 frames"):
        processor().inspect(io.BytesIO(data), accepted=ACCEPTED_CONTENT_TYPES)


# -- decoded bytes ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def report_png() -> bytes:
    return decode_bombs.solid_png(7000, 7000)  # 200 KB, 196 MB of RGBA pixels


def test_a_solid_png_over_the_lossless_budget_is_refused_naming_the_limit(
    no_decoding: None, report_png: bytes
) -> None:
    with pytest.raises(ImageTooLarge) as refused:
        processor().inspect(io.BytesIO(report_png), accepted=ACCEPTED_CONTENT_TYPES)

    assert refused.value.message == (
        "Decoding the image takes 196000000 bytes (7000x7000 pixels); the limit is "
        f"{64 * MiB} bytes for lossless images (PNG, GIF, lossless WebP)"
    )


@pytest.mark.parametrize(("mode", "bands"), [("L", 1), ("RGB", 3), ("RGBA", 4)])
def test_png_decoded_bytes_are_width_height_and_bands(mode: str, bands: int) -> None:
    data = decode_bombs.solid_png(100, 50, mode)
    budget = 100 * 50 * bands

    processor(max_lossless_decoded_bytes=budget).inspect(
        io.BytesIO(data), accepted=ACCEPTED_CONTENT_TYPES
    )
    with pytest.raises(ImageTooLarge, match=f"takes {budget} bytes"):
        processor(max_lossless_decoded_bytes=budget - 1).inspect(
            io.BytesIO(data), accepted=ACCEPTED_CONTENT_TYPES
        )


def test_a_lossless_webp_over_the_budget_is_refused_from_its_header(no_decoding: None) -> None:
    data = decode_bombs.solid_webp(3000, 3000, lossless=True)  # 2 KB

    with pytest.raises(ImageTooLarge, match="for lossless images") as refused:
        processor().inspect(io.BytesIO(data), accepted=ACCEPTED_CONTENT_TYPES)
    with pytest.raises(ImageTooLarge, match="for lossless images"):
        processor().render(io.BytesIO(data), 512, "jpeg")

    assert f"takes {3000 * 3000 * WEBP_BYTES_PER_PIXEL} bytes" in refused.value.message


@pytest.mark.parametrize(
    ("data", "bitstream"),
    [
        (webp((40, 30), lossless=False), b"VP8 "),
        (webp((40, 30), lossless=True), b"VP8L"),
        (webp((40, 30), lossless=False, mode="RGBA"), b"VP8 "),  # VP8X, ALPH, then VP8
        (webp((40, 30), lossless=True, mode="RGBA"), b"VP8L"),
        (webp((40, 30), lossless=False, frames=3), b"VP8 "),  # VP8X, ANIM, ANMF
        (webp((40, 30), lossless=True, frames=3), b"VP8L"),
        (webp((40, 30), lossless=False, icc_profile=b"\x00" * 301), b"VP8 "),  # VP8X, ICCP
        (b"RIFF\x00\x00\x00\x00WEBPVP8X", None),
    ],
    ids=[
        "lossy",
        "lossless",
        "lossy-alpha",
        "lossless-alpha",
        "lossy-anim",
        "lossless-anim",
        "icc-odd-size",
        "cut",
    ],
)
def test_a_webp_first_frame_is_told_lossy_or_lossless_from_its_chunks(
    data: bytes, bitstream: bytes | None
) -> None:
    body = io.BytesIO(data)

    assert webp_bitstream(body) == bitstream
    assert body.tell() == 0


def test_lossy_and_lossless_webp_fall_under_their_own_budgets() -> None:
    size = (256, 128)
    needed = 256 * 128 * WEBP_BYTES_PER_PIXEL
    lenient_lossy = processor(max_decoded_bytes=needed, max_lossless_decoded_bytes=needed - 1)
    lenient_lossless = processor(max_decoded_bytes=needed - 1, max_lossless_decoded_bytes=needed)

    lossy = io.BytesIO(webp(size, lossless=False))
    lossless = io.BytesIO(webp(size, lossless=True))
    assert lenient_lossy.inspect(lossy, accepted=ACCEPTED_CONTENT_TYPES).width == 256
    assert lenient_lossless.inspect(lossless, accepted=ACCEPTED_CONTENT_TYPES).width == 256
    with pytest.raises(ImageTooLarge, match=f"the limit is {needed - 1} bytes for lossless"):
        lenient_lossy.inspect(lossless, accepted=ACCEPTED_CONTENT_TYPES)
    with pytest.raises(ImageTooLarge, match=f"the limit is {needed - 1} bytes$"):
        lenient_lossless.inspect(lossy, accepted=ACCEPTED_CONTENT_TYPES)


def test_a_large_jpeg_counts_at_its_draft_scale() -> None:
    data = jpeg((4000, 3000))
    # 1/8 for the upload check (500x375 RGB); for a thumbnail, the smallest scale that keeps
    # both sides at twice its size or more (1/2: 2000x1500).
    checking = processor(max_decoded_bytes=500 * 375 * 3)
    rendering = processor(max_decoded_bytes=2000 * 1500 * 3)

    assert checking.inspect(io.BytesIO(data), accepted=ACCEPTED_CONTENT_TYPES).width == 4000
    assert rendering.render(io.BytesIO(data), 512, "jpeg").width == 512
    with pytest.raises(ImageTooLarge, match="4000x3000 pixels"):
        checking.render(io.BytesIO(data), 512, "jpeg")


def test_a_progressive_jpeg_also_counts_its_full_size_coefficients(no_decoding: None) -> None:
    # 4:2:0: luma 2000x1500 plus two chroma planes of 1000x750, 2 bytes a coefficient.
    coefficients = (2000 * 1500 + 2 * 1000 * 750) * 2
    budget = 250 * 188 * 3 + coefficients - 1

    with pytest.raises(ImageTooLarge, match="2000x1500 pixels"):
        processor(max_decoded_bytes=budget).inspect(
            io.BytesIO(jpeg((2000, 1500), progressive=True)), accepted=ACCEPTED_CONTENT_TYPES
        )


def test_a_baseline_jpeg_of_the_same_size_fits_that_budget() -> None:
    budget = 250 * 188 * 3 + (2000 * 1500 + 2 * 1000 * 750) * 2 - 1

    info = processor(max_decoded_bytes=budget).inspect(
        io.BytesIO(jpeg((2000, 1500))), accepted=ACCEPTED_CONTENT_TYPES
    )

    assert (info.width, info.height) == (2000, 1500)


def test_without_budgets_of_its_own_a_decode_is_capped_at_4_bytes_a_pixel() -> None:
    bare = PillowImageProcessor(max_pixels=100 * 100, max_frames=1)

    bare.inspect(io.BytesIO(decode_bombs.solid_png(100, 100)), accepted=ACCEPTED_CONTENT_TYPES)
    with pytest.raises(ImageTooLarge, match="the limit is 40000 bytes"):
        bare.inspect(io.BytesIO(webp((100, 100), lossless=True)), accepted=ACCEPTED_CONTENT_TYPES)


# -- decode slots -----------------------------------------------------------------------------


@pytest.fixture
def held() -> Iterator[DecodeSlots]:
    """Slots of which every one is held by another thread until the test ends."""
    slots = DecodeSlots(limit=2, wait_seconds=0)
    taken = threading.Barrier(3)
    release = threading.Event()

    def hold() -> None:
        with slots.slot():
            taken.wait()
            release.wait()

    holders = [threading.Thread(target=hold) for _ in range(2)]
    for holder in holders:
        holder.start()
    taken.wait()
    yield slots
    release.set()
    for holder in holders:
        holder.join()


def test_a_decode_beyond_the_slots_is_told_to_come_back(held: DecodeSlots) -> None:
    with pytest.raises(DecoderBusy) as busy:
        processor(decode_slots=held).render(io.BytesIO(jpeg((64, 64))), 64, "jpeg")

    assert busy.value.retry_after == 1
    assert "busy" in busy.value.message


def test_a_refusal_from_the_header_needs_no_slot(held: DecodeSlots, report_png: bytes) -> None:
    with pytest.raises(ImageTooLarge):
        processor(decode_slots=held).inspect(
            io.BytesIO(report_png), accepted=ACCEPTED_CONTENT_TYPES
        )


def test_a_slot_is_given_back_after_a_decode_that_failed() -> None:
    slots = DecodeSlots(limit=1, wait_seconds=0)
    broken = jpeg((300, 300))[:400]

    for _ in range(3):
        with pytest.raises(InvalidImage):
            processor(decode_slots=slots).inspect(
                io.BytesIO(broken), accepted=ACCEPTED_CONTENT_TYPES
            )

    assert processor(decode_slots=slots).render(io.BytesIO(jpeg((64, 64))), 32, "jpeg").width == 32


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's allocator only")
def test_the_allocator_is_told_to_give_large_blocks_back() -> None:
    assert return_freed_memory()
