"""Listings as DynamoDB Queries on listing-entry partitions; never a Scan or FilterExpression.

Each filter, alone or with a user and/or a date range, maps to one partition whose sort key is
the image id (a ULID, so time-ordered): the read is exactly the page (ScannedCount == Count).
Two cases read more than they return, and are bounded:

* several tags: the partition of the tag with the fewest images is read and the other tags are
  checked on the metadata; at most ``RESIDUAL_READ_BUDGET`` entries are read per request.
* a tag with a content type: the tag's partition is read, the type checked on the metadata.

With no filter at all, the per-day "all images" partitions are read newest day first.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from service.adapters.aws_errors import translate_errors
from service.adapters.dynamodb import items, keys
from service.errors import StorageUnavailable
from service.model import Image, ImageQuery, ImageStatus, Page, id_time_bounds

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

RESIDUAL_PAGE_SIZE = 100
RESIDUAL_READ_BUDGET = 1000
BATCH_GET_LIMIT = 100
DAYS_PAGE_SIZE = 10  # day buckets fetched at a time when walking "all images"


@dataclass(frozen=True)
class Plan:
    partition: str | None  # None: walk the per-day "all images" partitions
    other_tags: frozenset[str] = frozenset()
    content_type: str | None = None

    def matches(self, image: Image) -> bool:
        return self.other_tags <= set(image.tags) and (
            self.content_type is None or image.content_type == self.content_type
        )

    @property
    def exact(self) -> bool:
        return not self.other_tags and self.content_type is None


class ListingReader:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def search(self, query: ImageQuery, position: dict[str, str] | None) -> Page:
        if query.by_capture_time:
            return Page(*self._by_capture_time(query, position))
        plan = self.plan(query)
        if plan.partition is None:
            found, next_position = self._walk_days(query, position)
        else:
            found, next_position = self._read_partition(plan, query, position)
        return Page(found, next_position)

    def plan(self, query: ImageQuery) -> Plan:
        user, kind = query.user_id, query.content_type
        if query.tags:
            tag = self._most_selective(query.tags)
            partition = keys.listing_partition(user=user, tag=tag)
            return Plan(partition, frozenset(query.tags) - {tag}, kind)
        return Plan(keys.listing_partition(user=user, content_type=kind))

    def _read_partition(
        self, plan: Plan, query: ImageQuery, position: dict[str, str] | None
    ) -> tuple[list[Image], dict[str, str] | None]:
        assert plan.partition is not None
        after = position.get("after") if position else None
        if plan.exact:
            ids = self._entry_ids(plan.partition, query, after, query.limit + 1)[0]
            page = self._ready(ids[: query.limit])
            more = len(ids) > query.limit
            return page, ({"after": ids[query.limit - 1]} if more else None)
        found: list[Image] = []
        examined = 0
        while True:
            ids, exhausted = self._entry_ids(plan.partition, query, after, RESIDUAL_PAGE_SIZE)
            for image in self._ready(ids):
                if plan.matches(image):
                    found.append(image)
                if len(found) > query.limit:
                    return found[: query.limit], {"after": found[query.limit - 1].image_id}
            examined += len(ids)
            after = ids[-1] if ids else after
            if exhausted:
                return found, None
            if examined >= RESIDUAL_READ_BUDGET:
                return found, {"after": after} if after else None

    def _by_capture_time(
        self, query: ImageQuery, position: dict[str, str] | None
    ) -> tuple[list[Image], dict[str, str] | None]:
        """Newest capture first, from the user's capture-time partition, or for all users
        from the month partitions between ``taken_to`` and ``taken_from`` (both required,
        checked by the service), newest month first. Exact: every entry read is returned."""
        if query.user_id is not None:
            partitions = [keys.user_taken_partition(query.user_id)]
        else:
            assert query.taken_from is not None
            assert query.taken_to is not None
            partitions = [
                keys.taken_month_partition(month)
                for month in _months(query.taken_to, query.taken_from)
            ]
        start = position.get("partition") if position else None
        if start is not None and start in partitions:
            partitions = partitions[partitions.index(start) :]
        low, high = keys.taken_range(query.taken_from, query.taken_to)
        found: list[tuple[str, str]] = []  # (partition, sort key)
        for partition in partitions:
            after = position.get("after") if position and partition == start else None
            response = self._newest_first(
                partition, (low, high), after, query.limit + 1 - len(found)
            )
            found.extend((partition, item["sk"]["S"]) for item in response["Items"])
            if len(found) > query.limit:
                last_partition, last_key = found[query.limit - 1]
                ids = [keys.image_id_of_taken_key(k) for _, k in found[: query.limit]]
                return self._ready(ids), {"partition": last_partition, "after": last_key}
        return self._ready([keys.image_id_of_taken_key(k) for _, k in found]), None

    def _walk_days(
        self, query: ImageQuery, position: dict[str, str] | None
    ) -> tuple[list[Image], dict[str, str] | None]:
        start_day = position.get("day") if position else None
        ids: list[tuple[str, str]] = []  # (day, image id)
        for day in self._days(query, start_day):
            after = position.get("after") if position and day == start_day else None
            wanted = query.limit + 1 - len(ids)
            day_ids = self._entry_ids(keys.day_partition(day), query, after, wanted)[0]
            ids.extend((day, image_id) for image_id in day_ids)
            if len(ids) > query.limit:
                last_day, last_id = ids[query.limit - 1]
                return self._ready([i for _, i in ids[: query.limit]]), {
                    "day": last_day,
                    "after": last_id,
                }
        return self._ready([i for _, i in ids]), None

    def _days(self, query: ImageQuery, start_day: str | None) -> Iterator[str]:
        newest = query.date_to.strftime("%Y-%m-%d") if query.date_to else "9999-12-31"
        oldest = query.date_from.strftime("%Y-%m-%d") if query.date_from else "0000-01-01"
        newest = min(newest, start_day) if start_day else newest
        for page in self._pages(
            KeyConditionExpression="pk = :p AND sk BETWEEN :lo AND :hi",
            ExpressionAttributeValues={
                ":p": {"S": keys.DAYS},
                ":lo": {"S": oldest},
                ":hi": {"S": newest},
            },
            ScanIndexForward=False,
        ):
            yield from (item["sk"]["S"] for item in page)

    def _entry_ids(
        self, partition: str, query: ImageQuery, after: str | None, limit: int
    ) -> tuple[list[str], bool]:
        """Up to ``limit`` image ids, newest first; and whether the partition is exhausted."""
        bounds = id_time_bounds(query.date_from, query.date_to)
        response = self._newest_first(partition, bounds, after, limit)
        ids = [item["sk"]["S"] for item in response["Items"]]
        return ids, "LastEvaluatedKey" not in response

    def _newest_first(
        self, partition: str, bounds: tuple[str, str], after: str | None, limit: int
    ) -> dict[str, Any]:
        """One Query of ``partition``: sort keys within ``bounds``, descending, after
        ``after``, ``limit`` items at most."""
        low, high = bounds
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :p AND sk BETWEEN :lo AND :hi",
            "ExpressionAttributeValues": {
                ":p": {"S": partition},
                ":lo": {"S": low},
                ":hi": {"S": high},
            },
            "ScanIndexForward": False,
            "ConsistentRead": True,
            "Limit": limit,
        }
        if after:
            request["ExclusiveStartKey"] = items.entry_key(partition, after)
        with translate_errors("list images"):
            response: dict[str, Any] = self._client.query(**request)  # type: ignore[assignment]
        return response

    def _pages(self, **request: Any) -> Iterator[list[dict[str, Any]]]:
        paginator = self._client.get_paginator("query")
        with translate_errors("list images"):
            for page in paginator.paginate(
                TableName=self._table,
                ConsistentRead=True,
                PaginationConfig={"PageSize": DAYS_PAGE_SIZE},
                **request,
            ):
                yield page["Items"]

    def _ready(self, ids: list[str]) -> list[Image]:
        """The metadata of ``ids``, in the same order, dropping any no longer READY."""
        loaded = {
            image.image_id: image
            for image in self.load([items.meta_key(i) for i in dict.fromkeys(ids)])
        }
        return [loaded[i] for i in ids if i in loaded and loaded[i].status is ImageStatus.READY]

    def _most_selective(self, tags: tuple[str, ...]) -> str:
        counts = {tag: 0 for tag in tags}
        for item in self._batch_get_raw([items.tag_counter_key(tag) for tag in tags]):
            counts[keys.tag_of_counter(item["pk"]["S"])] = int(item.get("n", {"N": "0"})["N"])
        return min(tags, key=lambda tag: (counts[tag], tag))

    def load(self, item_keys: list[dict[str, Any]]) -> list[Image]:
        """The images at ``item_keys`` that exist (BatchGetItem, 100 at a time), any order."""
        return [items.from_item(item) for item in self._batch_get_raw(item_keys)]

    def _batch_get_raw(self, item_keys: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for start in range(0, len(item_keys), BATCH_GET_LIMIT):
            pending = item_keys[start : start + BATCH_GET_LIMIT]
            for attempt in range(8):
                with translate_errors("read images"):
                    response = self._client.batch_get_item(
                        RequestItems={self._table: {"Keys": pending, "ConsistentRead": True}}
                    )
                yield from response["Responses"].get(self._table, [])
                unprocessed: Any = response.get("UnprocessedKeys", {}).get(self._table, {})
                pending = list(unprocessed.get("Keys", []))
                if not pending:
                    break
                time.sleep(min(0.05 * 2**attempt, 1.0))
            else:
                raise StorageUnavailable("Could not read images (throttled); retry")


def _months(newest: datetime, oldest: datetime) -> list[str]:
    """``yyyy-mm`` from ``newest``'s month back to ``oldest``'s, both included."""
    year, month = newest.year, newest.month
    months: list[str] = []
    while (year, month) >= (oldest.year, oldest.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months
