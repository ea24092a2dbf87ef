"""What GET /images/{id}/similar reads at 10,000 images (20 users, random hashes, and one
user's near copies of one photo): 4 Queries, one per band, each of one partition and at most
100 items, then one BatchGetItem of the images found; no Scan, whatever the table holds. On
moto in process, counted on the repository's client (``-s`` prints the figures)."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from msgspec.structs import replace

from service.adapters.dynamodb import items, keys
from service.adapters.dynamodb.image_repository import DynamoDBImageRepository
from service.adapters.dynamodb.similar import BAND_READ_LIMIT
from service.domain.model import Image, ImageStatus
from service.domain.similarity import BANDS, MAX_DISTANCE, distance
from tests.support.amplification import USERS, Recorder
from tests.support.aws import moto_environment, small_settings
from tests.support.images import make_image

IMAGES = 10_000
PHOTO = "c3a5f00f1e2d4b69"


def near_copies(rng: random.Random) -> list[str]:
    """Hashes 0 to 3 bits from PHOTO, the flipped bits anywhere."""
    copies = []
    for flips in (0, 1, 1, 2, 2, 3, 3, 3):
        value = int(PHOTO, 16)
        for bit in rng.sample(range(64), flips):
            value ^= 1 << bit
        copies.append(f"{value:016x}")
    return copies


def catalogue() -> list[Image]:
    rng = random.Random(11)
    images = [
        replace(
            make_image(n, user=rng.choice(USERS), status=ImageStatus.READY),
            phash=f"{rng.getrandbits(64):016x}",
        )
        for n in range(IMAGES)
    ]
    copies = [
        replace(make_image(IMAGES + n, user=USERS[0]), phash=phash)
        for n, phash in enumerate(near_copies(rng))
    ]
    return images + copies


def written(image: Image) -> list[dict[str, Any]]:
    """The metadata item and the band items, as the worker's transaction leaves them."""
    assert image.phash is not None
    bands = [items.similar_item(pk, sk, image.phash) for pk, sk in items.similar_keys(image)]
    return [items.to_item(image), *bands]


def seed(client: Any, table: str, images: list[Image]) -> None:
    writes = [item for image in images for item in written(image)]
    batches = [writes[start : start + 25] for start in range(0, len(writes), 25)]

    def write(batch: list[dict[str, Any]]) -> None:
        pending: Any = [{"PutRequest": {"Item": item}} for item in batch]
        while pending:
            answer = client.batch_write_item(RequestItems={table: pending})
            pending = answer.get("UnprocessedItems", {}).get(table, [])

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write, batches))


@pytest.fixture(scope="module")
def seeded() -> Iterator[tuple[DynamoDBImageRepository, Recorder, list[Image]]]:
    settings = small_settings()
    with moto_environment(settings):
        client = boto3.client("dynamodb", region_name="us-east-1")
        images = catalogue()
        started = time.monotonic()
        seed(client, settings.dynamodb_table_name, images)
        print(f"\nseeded {len(images)} images in {time.monotonic() - started:.0f} s")
        recorder = Recorder().attach(client)
        yield DynamoDBImageRepository(client, settings.dynamodb_table_name), recorder, images


def test_similar_reads_four_band_partitions_and_finds_every_near_copy(
    seeded: tuple[DynamoDBImageRepository, Recorder, list[Image]],
) -> None:
    repository, recorder, images = seeded
    recorder.clear()

    found = repository.similar(USERS[0], PHOTO)

    near = {
        image.image_id
        for image in images
        if image.user_id == USERS[0]
        and image.phash is not None
        and distance(PHOTO, image.phash) <= MAX_DISTANCE
    }
    assert {image_id for image_id, _ in found} == near
    assert len(near) >= 8
    assert recorder.operations() == ["Query"] * BANDS
    partitions = {read.partition for read in recorder.queries}
    assert len(partitions) == BANDS
    assert all(
        read.partition.startswith(keys.SIMILAR + USERS[0] + "#") for read in recorder.queries
    )
    assert all(read.scanned <= BAND_READ_LIMIT for read in recorder.queries)
    scanned = sum(read.scanned for read in recorder.queries)
    print(f"similar at {IMAGES} images: {BANDS} Queries, {scanned} band items read")
