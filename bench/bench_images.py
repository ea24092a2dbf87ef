"""``make bench``: what JPEG draft decoding buys the upload check and thumbnails.

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
from service.model import ACCEPTED_CONTENT_TYPES

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
    processor = PillowImageProcessor(max_pixels=50_000_000, max_frames=200)
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


if __name__ == "__main__":
    main()
