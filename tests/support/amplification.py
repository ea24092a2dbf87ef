"""Read amplification of listings, measured on a DynamoDB client: shared by the moto test
(tests/functional) and the LocalStack one (tests/containers).

A catalogue of 10,000 images across 20 users, 8 tags (and a rare one on every 200th image),
4 content types and 35 days, half of them with an EXIF capture time over 6 months, is seeded
with exactly the items ``publish()`` writes (metadata, listing and capture-time entries with
their projection, day registry), then every filter lists a page while a ``Recorder`` on the
client counts the calls and what each Query read (ScannedCount) and matched (Count).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict

import pytest
from msgspec.structs import replace

from service.adapters.dynamodb import items, keys
from service.adapters.dynamodb.image_repository import DynamoDBImageRepository
from service.adapters.dynamodb.search import PROBE_PAGE_SIZE, RESIDUAL_READ_BUDGET
from service.domain.model import ExifSummary, Image, ImageQuery, ImageStatus
from tests.support.images import START, make_image

IMAGES = 10_000
USERS = [f"user{n}" for n in range(20)]
TAGS = ["nature", "sunset", "city", "food", "pets", "travel", "art", "sea"]
RARE = "rare"
TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"]
LIMIT = 50


class DateRange(TypedDict):
    date_from: datetime
    date_to: datetime


WINDOW: DateRange = {"date_from": START + timedelta(days=10), "date_to": START + timedelta(days=19)}
TAKEN_START = datetime(2024, 1, 1, tzinfo=UTC)
MARCH = {
    "taken_from": datetime(2024, 3, 1, tzinfo=UTC),
    "taken_to": datetime(2024, 3, 31, tzinfo=UTC),
}
HALF_YEAR = {"taken_from": TAKEN_START, "taken_to": datetime(2024, 6, 30, tzinfo=UTC)}

# One filter each, and each with a date range: one Query of at most limit + 1 entries.
SINGLE_FILTERS: dict[str, dict[str, Any]] = {
    "user": {"user_id": "user3"},
    "tag": {"tags": ("sunset",)},
    "content type": {"content_type": "image/png"},
    "user + tag": {"user_id": "user3", "tags": ("city",)},
    "user + content type": {"user_id": "user3", "content_type": "image/gif"},
    "tag + content type": {"tags": ("sunset",), "content_type": "image/webp"},
    "rare tag + content type": {"tags": (RARE,), "content_type": "image/gif"},
}
EXACT_FILTERS: dict[str, dict[str, Any]] = {
    **SINGLE_FILTERS,
    **{f"{name} + date range": {**filters, **WINDOW} for name, filters in SINGLE_FILTERS.items()},
    # Capture time: a user's partition, or for all users one partition per month.
    "user + taken since": {"user_id": "user3", "taken_from": TAKEN_START},
    "user + taken range": {"user_id": "user3", **MARCH},
    "taken within a month": dict(MARCH),
}


@dataclass
class QueryRead:
    partition: str
    scanned: int
    count: int


@dataclass
class Recorder:
    """Listens on the botocore client: every DynamoDB call (operation and parameters), and
    what each Query read."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    queries: list[QueryRead] = field(default_factory=list)

    def attach(self, client: Any) -> Recorder:
        client.meta.events.register("provide-client-params.dynamodb.*", self._request)
        client.meta.events.register("after-call.dynamodb.Query", self._query_answered)
        return self

    def clear(self) -> None:
        self.calls.clear()
        self.queries.clear()

    def operations(self) -> list[str]:
        return [name for name, _ in self.calls]

    def entry_reads(self) -> list[QueryRead]:
        """The Queries of listing or capture-time entries (not of the day registry)."""
        return [read for read in self.queries if read.partition != keys.DAYS]

    def _request(self, model: Any, params: dict[str, Any], **kwargs: Any) -> None:
        self.calls.append((model.name, params))

    def _query_answered(self, parsed: dict[str, Any], **kwargs: Any) -> None:
        _, params = self.calls[-1]
        partition = params["ExpressionAttributeValues"][":p"]["S"]
        self.queries.append(QueryRead(partition, parsed["ScannedCount"], parsed["Count"]))


def catalogue() -> list[Image]:
    rng = random.Random(7)
    images = []
    for n in range(IMAGES):
        tags = tuple(rng.sample(TAGS, rng.randint(1, 2)))
        if n % 200 == 0:
            tags += (RARE,)
        image = make_image(
            n * 5,  # 10,000 images over about 35 days
            user=rng.choice(USERS),
            tags=tags,
            content_type=rng.choice(TYPES),
            status=ImageStatus.READY,
        )
        if n % 2 == 0:  # half record a capture time, over the first half of 2024
            taken = TAKEN_START + timedelta(seconds=rng.randrange(181 * 24 * 3600))
            image = replace(image, exif=ExifSummary(taken_at=taken.isoformat(), make="Canon"))
        images.append(image)
    return images


def published_items(images: list[Image]) -> list[dict[str, Any]]:
    """Exactly what ``publish()`` writes for ``images``."""
    written = []
    for image in images:
        written.append(items.to_item(image))
        written.extend(items.entries(image))
    written.extend(items.day_item(day) for day in {items.day_of(i) for i in images})
    return written


def seed_with_batch_writes(client: Any, table: str, images: list[Image]) -> None:
    writes = published_items(images)
    batches = [writes[start : start + 25] for start in range(0, len(writes), 25)]

    def write(batch: list[dict[str, Any]]) -> None:
        pending: Any = [{"PutRequest": {"Item": item}} for item in batch]
        while pending:
            response = client.batch_write_item(RequestItems={table: pending})
            pending = response.get("UnprocessedItems", {}).get(table, [])

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write, batches))


def expected(images: list[Image], query: ImageQuery) -> list[str]:
    if query.by_capture_time:
        return expected_by_capture_time(images, query)
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


def expected_by_capture_time(images: list[Image], query: ImageQuery) -> list[str]:
    low = query.taken_from or datetime.min.replace(tzinfo=UTC)
    high = query.taken_to or datetime.max.replace(tzinfo=UTC)
    found = [
        (taken, i.image_id)
        for i in images
        if (taken := i.taken_at) is not None
        and low <= taken <= high
        and (query.user_id is None or i.user_id == query.user_id)
    ]
    return [image_id for _, image_id in sorted(found, reverse=True)][: query.limit]


Search = Callable[[ImageQuery], list[Image]]


def check_exact(
    repository: DynamoDBImageRepository,
    images: list[Image],
    recorder: Recorder,
    filters: dict[str, Any],
) -> None:
    """One Query, of at most limit + 1 entries, read exactly; no BatchGetItem, no Scan."""
    recorder.clear()
    query = ImageQuery(limit=LIMIT, **filters)
    page = repository.search(query, None)
    assert [i.image_id for i in page.items] == expected(images, query)
    assert page.items == [by_id(images)[i.image_id] for i in page.items]  # the projection
    assert recorder.operations() == ["Query"]
    (read,) = recorder.queries
    assert 0 < read.count <= LIMIT + 1
    assert read.scanned == read.count
    assert all("FilterExpression" not in params for _, params in recorder.calls)


def check_all_images(
    repository: DynamoDBImageRepository,
    images: list[Image],
    recorder: Recorder,
    filters: dict[str, Any],
) -> None:
    """A page of the day registry, then day partitions (or the months of a capture-time
    range, newest first): limit + 1 entries in all."""
    recorder.clear()
    query = ImageQuery(limit=LIMIT, **filters)
    page = repository.search(query, None)
    assert [i.image_id for i in page.items] == expected(images, query)
    assert page.items == [by_id(images)[i.image_id] for i in page.items]  # the projection
    assert set(recorder.operations()) == {"Query"}
    entries = recorder.entry_reads()
    assert sum(read.count for read in entries) == LIMIT + 1
    assert all(read.scanned == read.count for read in recorder.queries)


def check_multi_tag(
    repository: DynamoDBImageRepository, images: list[Image], recorder: Recorder
) -> None:
    """Bounded by the rarest tag: its entries plus one probe page of each other tag."""
    rare_count = sum(RARE in i.tags for i in images)
    for filters in ({"tags": ("nature", RARE)}, {"tags": ("nature", RARE), **WINDOW}):
        recorder.clear()
        query = ImageQuery(limit=LIMIT, **filters)
        page = repository.search(query, None)
        assert [i.image_id for i in page.items] == expected(images, query)
        assert recorder.operations() == ["Query", "Query"]
        assert sum(read.scanned for read in recorder.queries) <= rare_count + PROBE_PAGE_SIZE


def check_user_tag_type(
    repository: DynamoDBImageRepository, images: list[Image], recorder: Recorder
) -> None:
    """A user's tag partition, the type checked on the entries: a bounded read per page."""
    query = ImageQuery(user_id="user3", tags=("city",), content_type="image/png", limit=LIMIT)
    recorder.clear()
    page = repository.search(query, None)
    assert [i.image_id for i in page.items] == expected(images, query)
    assert set(recorder.operations()) == {"Query"}
    assert sum(read.scanned for read in recorder.queries) <= RESIDUAL_READ_BUDGET


def check_pages(
    repository: DynamoDBImageRepository, images: list[Image], recorder: Recorder
) -> None:
    """Every page of a filter is one exact Query, and the pages add up to the whole."""
    query = ImageQuery(tags=("food",), content_type="image/jpeg", limit=100, **WINDOW)
    position = None
    seen: list[str] = []
    while True:
        recorder.clear()
        page = repository.search(query, position)
        assert recorder.operations() == ["Query"]
        assert recorder.queries[0].scanned == recorder.queries[0].count <= 101
        seen.extend(i.image_id for i in page.items)
        if not (position := page.next_position):
            break
    whole = ImageQuery(tags=("food",), content_type="image/jpeg", limit=IMAGES, **WINDOW)
    assert seen == expected(images, whole)


@dataclass(frozen=True)
class Measured:
    """One listing of the report: what it returned and read, and the most it may read."""

    name: str
    returned: int
    expected: int
    entries_read: int
    bound: int
    operations: frozenset[str]


def report(
    repository: DynamoDBImageRepository, images: list[Image], recorder: Recorder
) -> list[Measured]:
    """A page of every kind of listing, measured; the figures are printed (``pytest -rP``)."""
    rare_count = sum(RARE in i.tags for i in images)
    bounded: dict[str, tuple[dict[str, Any], int]] = {
        **{name: (filters, LIMIT + 1) for name, filters in EXACT_FILTERS.items()},
        "all images": ({}, LIMIT + 1),
        "all images, date range": (dict(WINDOW), LIMIT + 1),
        "taken over six months": (dict(HALF_YEAR), LIMIT + 1),
        "two tags (nature AND rare)": ({"tags": ("nature", RARE)}, rare_count + PROBE_PAGE_SIZE),
        "user + tag + content type": (
            {"user_id": "user3", "tags": ("city",), "content_type": "image/png"},
            RESIDUAL_READ_BUDGET,
        ),
    }
    measured = []
    print(f"{IMAGES} images, pages of {LIMIT}")
    for name, (filters, bound) in bounded.items():
        recorder.clear()
        query = ImageQuery(limit=LIMIT, **filters)
        page = repository.search(query, None)
        row = Measured(
            name,
            returned=len(page.items),
            expected=len(expected(images, query)),
            entries_read=sum(r.scanned for r in recorder.entry_reads()),
            bound=bound,
            operations=frozenset(recorder.operations()),
        )
        measured.append(row)
        print(
            f"{name:36} returned {row.returned:3}  entries read {row.entries_read:4} "
            f"(at most {row.bound:4})  calls {len(recorder.calls)} "
            f"({', '.join(sorted(row.operations))})"
        )
    return measured


_BY_ID: dict[int, dict[str, Image]] = {}


def by_id(images: list[Image]) -> dict[str, Image]:
    key = id(images)
    if key not in _BY_ID:
        _BY_ID[key] = {image.image_id: image for image in images}
    return _BY_ID[key]


Catalogue = tuple[DynamoDBImageRepository, list[Image], "Recorder"]


class OneQueryPerPage:
    """The assertions, for the ``catalogue`` fixture (repository, images, recorder) of the
    class that inherits them: one per backend."""

    @pytest.mark.parametrize("filters", EXACT_FILTERS.values(), ids=EXACT_FILTERS.keys())
    def test_a_page_of_one_filter_is_one_exact_query(
        self, catalogue: Catalogue, filters: dict[str, Any]
    ) -> None:
        check_exact(*catalogue, filters)

    @pytest.mark.parametrize(
        "filters",
        [{}, dict(WINDOW), dict(HALF_YEAR)],
        ids=["all", "date range", "taken over months"],
    )
    def test_all_images_read_the_page_from_day_or_month_partitions(
        self, catalogue: Catalogue, filters: dict[str, Any]
    ) -> None:
        check_all_images(*catalogue, filters)

    def test_multi_tag_and_is_bounded_by_the_rarest_tag(self, catalogue: Catalogue) -> None:
        check_multi_tag(*catalogue)

    def test_a_users_tag_with_a_type_is_a_bounded_read(self, catalogue: Catalogue) -> None:
        check_user_tag_type(*catalogue)

    def test_pages_of_a_filter_stay_exact(self, catalogue: Catalogue) -> None:
        check_pages(*catalogue)
