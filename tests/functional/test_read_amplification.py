"""Every listing filter is a DynamoDB Query on a key: read amplification is measured, not assumed.

GIVEN a table holding 1,200 images across 6 users, 8 tags, 4 content types and 40 days,
WHEN each filter (alone and with a date range) lists a page,
THEN the queries read exactly what they return (ScannedCount == Count), no Scan is issued and
no FilterExpression is sent; multi-tag AND reads at most the rarest tag's entries.

The table is seeded with batch writes of exactly the items ``publish()`` writes (metadata,
listing entries with their projection, day registry): moto deep-copies every table on each
TransactWriteItems, which makes 1,200 transactional publishes take many minutes. The
transactional path itself is covered by the contract tests.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict

import pytest

from service.adapters.dynamodb import items
from service.adapters.dynamodb.repository import DynamoDBImageRepository
from service.adapters.dynamodb.search import DAYS_PAGE_SIZE, PROBE_PAGE_SIZE
from service.bootstrap import dynamodb_client
from service.model import Image, ImageQuery, ImageStatus
from service.settings import Settings
from tests.support.aws import moto_environment
from tests.support.images import START, make_image

IMAGES = 1200
USERS = [f"user{n}" for n in range(6)]
TAGS = ["nature", "sunset", "city", "food", "pets", "travel", "art", "rare"]
TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"]


class DateRange(TypedDict):
    date_from: datetime
    date_to: datetime


WINDOW: DateRange = {"date_from": START + timedelta(days=10), "date_to": START + timedelta(days=19)}


class Recorder:
    """Listens on the botocore client: every DynamoDB call the repository makes (operation name
    and parameters), and what its Queries read (ScannedCount) and matched (Count)."""

    def __init__(self, client: Any) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.scanned_count = self.count = 0
        client.meta.events.register("provide-client-params.dynamodb.*", self._request)
        client.meta.events.register("after-call.dynamodb.Query", self._query_answered)

    def clear(self) -> None:
        self.calls.clear()
        self.scanned_count = self.count = 0

    def _request(self, model: Any, params: dict[str, Any], **kwargs: Any) -> None:
        self.calls.append((model.name, params))

    def _query_answered(self, parsed: dict[str, Any], **kwargs: Any) -> None:
        self.scanned_count += parsed["ScannedCount"]
        self.count += parsed["Count"]


@pytest.fixture(scope="module")
def catalogue() -> Iterator[tuple[DynamoDBImageRepository, list[Image], Recorder]]:
    settings = Settings(dynamodb_table_name="amplification", s3_bucket_name="amplification")
    with moto_environment(settings):
        client = dynamodb_client(settings)
        recorder = Recorder(client)
        repository = DynamoDBImageRepository(client, settings.dynamodb_table_name)
        rng = random.Random(7)
        images = []
        for n in range(IMAGES):
            tags = tuple(rng.sample(TAGS[:-1], rng.randint(1, 3)))
            if n % 100 == 0:
                tags += ("rare",)
            image = make_image(
                n * 48,  # 1,200 images over 40 days
                user=rng.choice(USERS),
                tags=tags,
                content_type=rng.choice(TYPES),
                status=ImageStatus.READY,
            )
            images.append(image)
        seed(client, settings.dynamodb_table_name, images)
        recorder.clear()
        yield repository, images, recorder


def seed(client: Any, table: str, images: list[Image]) -> None:
    writes = []
    for image in images:
        writes.append(items.to_item(image))
        writes.extend(items.entries(image))
    writes.extend(items.day_item(day) for day in {items.day_of(i) for i in images})
    for start in range(0, len(writes), 25):
        batch = [{"PutRequest": {"Item": item}} for item in writes[start : start + 25]]
        client.batch_write_item(RequestItems={table: batch})


def expected(images: list[Image], query: ImageQuery) -> list[str]:
    low = query.date_from or datetime.min.replace(tzinfo=UTC)
    high = query.date_to or datetime.max.replace(tzinfo=UTC)
    return sorted(
        (
            i.image_id
            for i in images
            if i.status is ImageStatus.READY
            and low <= i.created_at <= high
            and (query.user_id is None or i.user_id == query.user_id)
            and set(query.tags) <= set(i.tags)
            and (query.content_type is None or i.content_type == query.content_type)
        ),
        reverse=True,
    )[: query.limit]


SINGLE_DIMENSION: dict[str, dict[str, Any]] = {
    "user's newest page": {"user_id": "user3"},
    "tag": {"tags": ("sunset",)},
    "content type": {"content_type": "image/png"},
    "date range": dict(WINDOW),
    "user + date range": {"user_id": "user3", **WINDOW},
    "tag + date range": {"tags": ("sunset",), **WINDOW},
    "content type + date range": {"content_type": "image/png", **WINDOW},
    "user + tag": {"user_id": "user3", "tags": ("city",)},
    "user + content type": {"user_id": "user3", "content_type": "image/gif"},
    "all images": {},
}


@pytest.mark.parametrize("filters", SINGLE_DIMENSION.values(), ids=SINGLE_DIMENSION.keys())
def test_single_dimension_filters_read_exactly_the_page(
    catalogue: tuple[DynamoDBImageRepository, list[Image], Recorder], filters: dict[str, Any]
) -> None:
    repository, images, recorder = catalogue
    recorder.clear()
    query = ImageQuery(limit=50, **filters)
    page = repository.search(query, None)
    assert [i.image_id for i in page.items] == expected(images, query)
    # Reads: the page plus one (to know there is more), plus a page of the day registry when
    # the "all images" day buckets are walked.
    assert 0 < recorder.count <= query.limit + 1 + DAYS_PAGE_SIZE
    assert recorder.scanned_count == recorder.count  # read amplification 1.0
    operations = [name for name, _ in recorder.calls]
    assert "Scan" not in operations
    assert all("FilterExpression" not in params for _, params in recorder.calls)


def test_multi_tag_and_reads_at_most_the_rarest_tag(
    catalogue: tuple[DynamoDBImageRepository, list[Image], Recorder],
) -> None:
    repository, images, recorder = catalogue
    rare_count = sum("rare" in i.tags for i in images)
    query = ImageQuery(tags=("nature", "rare"), limit=50)
    recorder.clear()
    page = repository.search(query, None)
    assert [i.image_id for i in page.items] == expected(images, query)
    # The bound this design holds: the rarest tag's entries, plus a probe page of each other.
    queries = sum(1 for name, _ in recorder.calls if name == "Query")
    assert queries == 2
    assert recorder.scanned_count <= rare_count + PROBE_PAGE_SIZE
    assert all("FilterExpression" not in params for _, params in recorder.calls)


def test_pages_of_a_filter_stay_exact(
    catalogue: tuple[DynamoDBImageRepository, list[Image], Recorder],
) -> None:
    repository, images, recorder = catalogue
    query = ImageQuery(tags=("food",), limit=100, **WINDOW)
    position = None
    seen: list[str] = []
    while True:
        recorder.clear()
        page = repository.search(query, position)
        assert recorder.scanned_count == recorder.count
        seen.extend(i.image_id for i in page.items)
        if not (position := page.next_position):
            break
    assert seen == expected(images, ImageQuery(tags=("food",), limit=IMAGES, **WINDOW))


def test_amplification_report(
    catalogue: tuple[DynamoDBImageRepository, list[Image], Recorder],
) -> None:
    """Prints the measured figures (``pytest -rP``); the assertions are above."""
    repository, _, recorder = catalogue
    cases = {**SINGLE_DIMENSION, "two tags (nature AND rare)": {"tags": ("nature", "rare")}}
    for name, filters in cases.items():
        recorder.clear()
        page = repository.search(ImageQuery(limit=50, **filters), None)
        scanned, count = recorder.scanned_count, recorder.count
        ratio = scanned / count if count else float("nan")
        print(
            f"{name:28} returned {len(page.items):3}  scanned {scanned:4}  "
            f"count {count:4}  ScannedCount/Count {ratio:.2f}"
        )
        assert scanned >= len(page.items)
