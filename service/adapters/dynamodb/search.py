"""Listings as DynamoDB Queries on listing-entry partitions; never a Scan or FilterExpression.

Listing entries carry the listing projection (the whole image), so a page is one Query and no
BatchGetItem, and entries exist only while the image is READY: nothing is checked afterwards.
(An image whose custom metadata is too large to copy into every entry is the exception: its
entries leave it out, and a page that holds such images reads their metadata items with one
BatchGetItem; see ``items.ENTRY_BUDGET``.)

Each filter, alone or with a user and/or a date range, maps to one partition whose sort key is
the image id (a ULID, so time-ordered): a page reads ``limit + 1`` entries at most (the extra
one says whether there is more), and ScannedCount == Count. That includes a tag with a content
type, which has partitions of its own. Two cases read more than they return, and are bounded:

* several tags (AND): the first ``PROBE_PAGE_SIZE`` entries of every tag's partition are read
  (one Query each). A partition that ends within its probe is the rarest tag's: its entries are
  all there is to check, and nothing more is read. Otherwise the partition whose probe reaches
  furthest back in time (the sparsest) is read on. Per request: at most ``(tags - 1) x
  PROBE_PAGE_SIZE`` entries plus the rarest tag's entries in the date range, and never more
  than ``tags x PROBE_PAGE_SIZE + RESIDUAL_READ_BUDGET``.
* a user, a tag and a content type together: the user's tag partition is read and the type
  checked on the entries, up to ``RESIDUAL_READ_BUDGET`` entries per request.

With no filter at all, the per-day "all images" partitions are read newest day first; with
``taken_from``/``taken_to``, the capture-time partitions (a user's, or the months in the range),
newest capture first. Both read ``limit + 1`` entries at most per page, however many
partitions the page spans.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec

from service.adapters.aws_errors import translate_errors
from service.adapters.dynamodb import items, keys
from service.domain.errors import StorageUnavailable
from service.domain.model import Image, ImageQuery, ImageStatus, Page, id_time_bounds

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PROBE_PAGE_SIZE = 100
RESIDUAL_PAGE_SIZE = 100
RESIDUAL_READ_BUDGET = 1000
BATCH_GET_LIMIT = 100
DAYS_PAGE_SIZE = 10  # day buckets fetched at a time when walking "all images"

Position = dict[str, str] | None


class Plan(msgspec.Struct, frozen=True):
    """The partitions to read: none for the per-day "all images" walk; one, read exactly or
    checked entry by entry; or one per tag of a multi-tag AND."""

    partitions: tuple[str, ...]
    exact: bool


def matches(query: ImageQuery, image: Image) -> bool:
    return (
        set(query.tags) <= set(image.tags)
        and (query.content_type is None or image.content_type == query.content_type)
        and (query.user_id is None or image.user_id == query.user_id)
    )


class ListingReader:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def search(self, query: ImageQuery, position: Position) -> Page:
        if query.by_capture_time:
            return Page(*self._by_capture_time(query, position))
        plan = self.plan(query)
        after = position.get("after") if position else None
        if not plan.partitions:
            found, next_position = self._walk_days(query, position)
        elif plan.exact:
            found, next_position = self._read_exact(plan.partitions[0], query, after)
        else:
            found, next_position = self._read_checked(plan, query, after)
        return Page(found, next_position)

    @staticmethod
    def plan(query: ImageQuery) -> Plan:
        user, kind = query.user_id, query.content_type
        if query.tags:
            partitions = tuple(
                partition
                for tag in sorted(set(query.tags))
                if (partition := keys.listing_partition(user=user, tag=tag, content_type=kind))
            )
            # A user's tag partition holds every type: the type is checked on the entries.
            return Plan(partitions, exact=len(partitions) == 1 and not (user and kind))
        partition = keys.listing_partition(user=user, content_type=kind)
        return Plan((partition,) if partition else (), exact=True)

    def _read_exact(
        self, partition: str, query: ImageQuery, after: str | None
    ) -> tuple[list[Image], Position]:
        found = self._entries(partition, query, after, query.limit + 1)[0]
        if len(found) > query.limit:
            return found[: query.limit], {"after": found[query.limit - 1].image_id}
        return found, None

    def _read_checked(
        self, plan: Plan, query: ImageQuery, after: str | None
    ) -> tuple[list[Image], Position]:
        examined: list[Image] = []
        if len(plan.partitions) == 1:
            chosen, exhausted = plan.partitions[0], False
        else:
            probes = {
                partition: self._entries(partition, query, after, PROBE_PAGE_SIZE)
                for partition in plan.partitions
            }
            ended = [partition for partition, (_, done) in probes.items() if done]
            if ended:  # the rarest tag, read to its end: nothing else to look at
                chosen = min(ended, key=lambda partition: len(probes[partition][0]))
            else:  # the sparsest: its probe reaches furthest back in time
                chosen = min(
                    plan.partitions, key=lambda partition: probes[partition][0][-1].image_id
                )
            examined, exhausted = probes[chosen]
        found: list[Image] = []
        checked = 0
        while True:
            for image in examined:
                if matches(query, image):
                    found.append(image)
                    if len(found) > query.limit:
                        return found[: query.limit], {"after": found[query.limit - 1].image_id}
            checked += len(examined)
            after = examined[-1].image_id if examined else after
            if exhausted:
                return found, None
            if checked >= RESIDUAL_READ_BUDGET:
                return found, {"after": after} if after else None
            examined, exhausted = self._entries(chosen, query, after, RESIDUAL_PAGE_SIZE)

    def _by_capture_time(
        self, query: ImageQuery, position: Position
    ) -> tuple[list[Image], Position]:
        """Newest capture first, from the user's capture-time partition, or for all users
        from the month partitions between ``taken_to`` and ``taken_from`` (both required,
        checked by the service), newest month first. Exact: every entry read is returned, and
        a page reads ``limit + 1`` entries at most."""
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
        found: list[tuple[str, dict[str, Any]]] = []  # (partition, entry)
        for partition in partitions:
            after = position.get("after") if position and partition == start else None
            response = self._newest_first(
                partition, (low, high), after, query.limit + 1 - len(found)
            )
            found.extend((partition, item) for item in response["Items"])
            if len(found) > query.limit:
                last_partition, last = found[query.limit - 1]
                page = self._images([item for _, item in found[: query.limit]])
                return page, {"partition": last_partition, "after": last["sk"]["S"]}
        return self._images([item for _, item in found]), None

    def _walk_days(self, query: ImageQuery, position: Position) -> tuple[list[Image], Position]:
        start_day = position.get("day") if position else None
        found: list[tuple[str, Image]] = []
        for day in self._days(query, start_day):
            after = position.get("after") if position and day == start_day else None
            wanted = query.limit + 1 - len(found)
            day_images = self._entries(keys.day_partition(day), query, after, wanted)[0]
            found.extend((day, image) for image in day_images)
            if len(found) > query.limit:
                last_day, last = found[query.limit - 1]
                return [image for _, image in found[: query.limit]], {
                    "day": last_day,
                    "after": last.image_id,
                }
        return [image for _, image in found], None

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

    def _entries(
        self, partition: str, query: ImageQuery, after: str | None, limit: int
    ) -> tuple[list[Image], bool]:
        """Up to ``limit`` images of the partition, newest first, from the projection in their
        entries; and whether the partition is exhausted."""
        bounds = id_time_bounds(query.date_from, query.date_to)
        response = self._newest_first(partition, bounds, after, limit)
        return self._images(response["Items"]), "LastEvaluatedKey" not in response

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

    def _images(self, entries: list[dict[str, Any]]) -> list[Image]:
        """The images of ``entries``, in order. An entry that leaves out the custom metadata
        (``items.ENTRY_BUDGET``) is completed from the metadata item: one BatchGetItem for all
        of them, none when there are none; an image deleted meanwhile is left out."""
        partial = [items.from_item(e).image_id for e in entries if items.is_partial(e)]
        stored = {i.image_id: i for i in self.load([items.meta_key(p) for p in partial])}
        found = []
        for entry in entries:
            image = items.from_item(entry)
            if items.is_partial(entry):
                complete = stored.get(image.image_id)
                if complete is None or complete.status is not ImageStatus.READY:
                    continue
                image = complete
            found.append(image)
        return found

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
