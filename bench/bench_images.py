"""``make bench``: what JPEG draft decoding buys the upload check and renditions, and what
serving a stored rendition costs.

The processor is configured as the service is by default (pixel, frame and decoding budgets).

Each figure is the median of several runs, reported with the ratio to a baseline measured in
the same run on the same bytes (full-size decoding), so the machine's speed cancels out.
"""

from __future__ import annotations

import io
import logging
import os
import statistics
import time
from collections.abc import Callable
from functools import partial

from moto import mock_aws
from PIL import Image

from service.adapters.pillow_processor import PillowImageProcessor
from service.bootstrap import s3_client
from service.domain.model import ACCEPTED_CONTENT_TYPES, rendition_key
from service.entrypoints.app import create_app
from service.entrypoints.provisioning import create_resources
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


def render(processor: PillowImageProcessor, data: bytes, side: int) -> None:
    processor.render(io.BytesIO(data), side, "jpeg")


def bench_renditions(processor: PillowImageProcessor) -> None:
    """Each default rendition size of a 12 MP JPEG, against a full decode in the same run."""
    data = photo(4000, 3000)
    baseline = median_ms(partial(full_decode, data))
    for side in Settings().rendition_sizes:
        rendered = median_ms(partial(render, processor, data, side))
        print(
            f"12 MP JPEG: {side:4d} px rendition {rendered:7.1f} ms vs full decode "
            f"{baseline:7.1f} ms -> {rendered / baseline:4.2f}x the decode"
        )


def bench_serving() -> None:
    """A thumbnail request for a stored rendition (API round trip to the 302, in process, on
    moto's in-process S3 and DynamoDB) against a head_object of the same key."""
    settings = Settings(
        s3_bucket_name="bench-images",
        dynamodb_table_name="bench-images",
        auth_mode="none",
        cursor_secret="bench-cursor-secret-0123456789",  # noqa: S106 - a local mock
    )
    fake_credentials = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
    os.environ.update(fake_credentials, AWS_DEFAULT_REGION="us-east-1")
    os.environ.pop("AWS_ENDPOINT_URL", None)
    logging.disable(logging.WARNING)  # AUTH_MODE=none's warning
    with mock_aws():
        create_resources(settings)
        client = create_app(settings).test_client()
        upload = io.BytesIO(photo(1600, 1200))
        created = client.post(
            "/images",
            data={"user_id": "bench", "image": (upload, "photo.jpg", "image/jpeg")},
            content_type="multipart/form-data",
        ).get_json()
        path = f"/images/{created['image_id']}/thumbnail?size=256"
        assert client.get(path).status_code == 302  # rendered and stored once
        s3 = s3_client(settings)
        key = rendition_key(created["image_id"], 256, "jpeg")
        served = median_ms(lambda: client.get(path))
        head = median_ms(lambda: s3.head_object(Bucket=settings.s3_bucket_name, Key=key))
        print(
            f"stored rendition: API round trip to the 302 {served:6.2f} ms vs head_object "
            f"{head:6.2f} ms -> {served / head:4.2f}x (moto, in process)"
        )


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
        thumb = median_ms(partial(render, processor, data, 256))
        print(
            f"{size}: 256 px thumbnail {thumb:7.1f} ms vs full decode + resize "
            f"{baseline:7.1f} ms -> {baseline / thumb:4.1f}x faster"
        )
    bench_renditions(processor)
    bench_serving()


if __name__ == "__main__":
    main()
