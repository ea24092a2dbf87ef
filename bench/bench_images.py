"""``make bench``: what JPEG draft decoding buys the upload check and thumbnails.

The processor is configured as the service is by default (pixel, frame and decoding budgets).

Each figure is the median of several runs, reported with the ratio to a baseline measured in
the same run on the same bytes (full-size decoding), so the machine's speed cancels out.
"""

from __future__ import annotations

import io
import statistics
import time
from collections.abc import Callable
from functools import partial

from PIL import Image

from service.adapters.pillow_processor import PillowImageProcessor
from service.model import ACCEPTED_CONTENT_TYPES, THUMBNAIL_SIZES
from service.settings import Settings

RUNS = 7


def photo(width: int, height: int) -> bytes:
    """A noisy gradient: compresses like a photograph, unlike a flat colour."""
    gradient = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 40)
    rgb = Image.merge("RGB", (gradient, noise, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    out = io.BytesIO()
    rgb.save(out, format="JPEG", quality=90)
    return out.getvalue()


def median_ms(action: Callable[[], object]) -> float:
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def full_decode(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as image:
        image.load()


def full_thumbnail(data: bytes, side: int) -> None:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        image.resize((side, side * image.height // image.width)).save(io.BytesIO(), "JPEG")


def check(processor: PillowImageProcessor, data: bytes) -> None:
    processor.inspect(io.BytesIO(data), accepted=ACCEPTED_CONTENT_TYPES)


def thumbnail(processor: PillowImageProcessor, data: bytes, side: int) -> None:
    processor.thumbnail(io.BytesIO(data), side)


def main() -> None:
    defaults = Settings()
    processor = PillowImageProcessor(
        max_pixels=defaults.max_image_pixels,
        max_frames=defaults.max_image_frames,
        max_decoded_bytes=defaults.max_decoded_bytes,
        max_lossless_decoded_bytes=defaults.max_lossless_decoded_bytes,
    )
    print(f"median of {RUNS} runs; baseline = decoding at full size, same bytes, same run")
    for width, height in ((4000, 3000), (8000, 6000)):
        data = photo(width, height)
        size = f"{width}x{height} JPEG ({len(data) / 1e6:.1f} MB)"
        baseline = median_ms(partial(full_decode, data))
        checked = median_ms(partial(check, processor, data))
        print(
            f"{size}: upload check {checked:7.1f} ms vs full decode {baseline:7.1f} ms "
            f"-> {baseline / checked:4.1f}x faster"
        )
        baseline = median_ms(partial(full_thumbnail, data, 256))
        thumb = median_ms(partial(thumbnail, processor, data, 256))
        print(
            f"{size}: 256 px thumbnail {thumb:7.1f} ms vs full decode + resize "
            f"{baseline:7.1f} ms -> {baseline / thumb:4.1f}x faster"
        )
    # Every thumbnail size of a 12 MP photograph, each against the same full decode.
    data = photo(4000, 3000)
    baseline = median_ms(partial(full_decode, data))
    print(f"12 MP JPEG ({len(data) / 1e6:.1f} MB): full decode {baseline:7.1f} ms")
    for side in THUMBNAIL_SIZES:
        thumb = median_ms(partial(thumbnail, processor, data, side))
        print(
            f"12 MP JPEG: {side:3d} px thumbnail {thumb:7.1f} ms -> {thumb / baseline:4.2f}x the "
            "time of the full decode"
        )


if __name__ == "__main__":
    main()
