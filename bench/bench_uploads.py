"""``make bench``: upload throughput of the service against a raw boto3 loop, on LocalStack.

8 threads upload small JPEGs with 3 tags through ``ImageService.upload`` (S3 + DynamoDB
adapters, Pillow check, hashing), and 8 threads run the floor any upload must pay: one S3
``put_object`` and one DynamoDB ``put_item`` of an item of the same size. Both run in the same
process against the same LocalStack container, alternating rounds, and the figure is the ratio
of the medians: the machine's speed and LocalStack's cancel out.

LocalStack is started here (docker SDK, through testcontainers) when the image
``localstack/localstack:4.14.0`` is present locally; otherwise the bench says it skipped.
"""

from __future__ import annotations

import io
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from PIL import Image as PILImage

LOCALSTACK_IMAGE = "localstack/localstack:4.14.0"
THREADS = 8
UPLOADS_PER_ROUND = 80
ROUNDS = 3
TAGS = ("nature", "sunset", "travel")


def jpeg() -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (64, 48), "teal").save(out, format="JPEG")
    return out.getvalue()


@contextmanager
def localstack() -> Iterator[str | None]:
    """The endpoint of a fresh LocalStack, or None (and why, printed) when it cannot run here."""
    try:
        from testcontainers.core.container import DockerContainer
        from testcontainers.core.docker_client import DockerClient

        docker = DockerClient()
        present = docker.client.images.list(name=LOCALSTACK_IMAGE)
    except Exception as error:  # no docker SDK, no engine
        print(f"upload throughput: skipped: no Docker engine answers ({type(error).__name__})")
        yield None
        return
    if not present:
        print(
            f"upload throughput: skipped: the image {LOCALSTACK_IMAGE} is not present "
            f"(docker pull {LOCALSTACK_IMAGE}, then make bench again)"
        )
        yield None
        return
    import requests

    container = (
        DockerContainer(LOCALSTACK_IMAGE)
        .with_env("SERVICES", "s3,dynamodb")
        .with_exposed_ports(4566)
    )
    with container:
        url = f"http://{container.get_container_host_ip()}:{container.get_exposed_port(4566)}"
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if requests.get(url + "/_localstack/health", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        yield url


def per_second(action: Callable[[int], object], count: int) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(action, range(count)))
    return count / (time.perf_counter() - started)


def main() -> None:
    with localstack() as url:
        if url is not None:
            run(url)


def run(url: str) -> None:
    import os
    import uuid

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    from service.adapters.dynamodb import items
    from service.bootstrap import build_image_service, dynamodb_client, s3_client
    from service.domain.model import Caller, Image, ImageStatus, NewImage, new_image_id, utc_now
    from service.entrypoints.provisioning import create_resources
    from service.settings import Settings

    settings = Settings(
        aws_endpoint_url=url,
        s3_bucket_name="bench-uploads",
        dynamodb_table_name="bench-uploads",
        auth_mode="none",
        cursor_secret="bench-cursor-secret-0123456789",  # noqa: S106 - a local emulator
    )
    create_resources(settings)
    service = build_image_service(settings)
    s3, dynamodb = s3_client(settings), dynamodb_client(settings)
    data = jpeg()
    caller = Caller(user_id="bench", unrestricted=True)

    def upload(_: int) -> None:
        new = NewImage(
            user_id="bench", original_filename="b.jpg", declared_content_type=None, tags=TAGS
        )
        service.upload(caller, new, io.BytesIO(data))

    def raw(_: int) -> None:
        now = utc_now()
        image = Image(
            image_id=new_image_id(now),
            user_id="bench",
            content_type="image/jpeg",
            size_bytes=len(data),
            width=64,
            height=48,
            sha256=uuid.uuid4().hex * 2,
            original_filename="b.jpg",
            created_at=now,
            updated_at=now,
            tags=TAGS,
            status=ImageStatus.READY,
        )
        s3.put_object(Bucket=settings.s3_bucket_name, Key=image.object_key, Body=data)
        dynamodb.put_item(TableName=settings.dynamodb_table_name, Item=items.to_item(image))

    per_second(raw, 40)  # warm both paths: connections, LocalStack's lazy start
    per_second(upload, 40)
    raw_rates, service_rates = [], []
    for _ in range(ROUNDS):
        raw_rates.append(per_second(raw, UPLOADS_PER_ROUND))
        service_rates.append(per_second(upload, UPLOADS_PER_ROUND))
    raw_rate, service_rate = statistics.median(raw_rates), statistics.median(service_rates)
    print(
        f"upload throughput, LocalStack, {THREADS} threads, median of {ROUNDS} rounds of "
        f"{UPLOADS_PER_ROUND}: service {service_rate:5.1f}/s vs raw boto3 put_object + put_item "
        f"{raw_rate:5.1f}/s -> {service_rate / raw_rate:.2f}x"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
