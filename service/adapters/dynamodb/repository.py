"""ImageRepository on one DynamoDB table, through an injected boto3 client.

Status changes and listing entries move together in one transaction, so a listing shows an
image exactly when its metadata says READY. Tag counters (used only to pick the most selective
tag of a multi-tag query) are updated after the transaction, best effort.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from service.adapters.aws_errors import translate_errors
from service.adapters.dynamodb import items, keys
from service.adapters.dynamodb.search import ListingReader
from service.adapters.dynamodb.table import SWEEP_INDEX
from service.errors import DuplicateImage, ImageConflict, StorageUnavailable
from service.model import Image, ImageQuery, ImageStatus, Page, RenditionInfo, id_time_bounds

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

log = logging.getLogger(__name__)


class DynamoDBImageRepository:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table
        self._reader = ListingReader(client, table)
        self._known_days: set[str] = set()

    def add_pending(self, image: Image) -> None:
        with translate_errors("record the image"):
            self._client.put_item(
                TableName=self._table,
                Item=items.to_item(image.with_status(ImageStatus.PENDING)),
                ConditionExpression="attribute_not_exists(pk)",
            )

    def publish(self, image: Image, *, claim: bool = False) -> Image:
        self._register_day(items.day_of(image))
        ready = image.with_status(ImageStatus.READY)
        operations = [
            self._set_status(ready, expected=ImageStatus.PENDING, remove_sweep=True),
            *self._puts(items.entry_partitions(ready), ready.image_id),
            *self._put_keys(items.taken_entry_keys(ready)),
        ]
        # The claim goes last: its cancellation reason is looked up by its position.
        if claim:
            operations.append(
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": items.claim_item(ready),
                        "ConditionExpression": "attribute_not_exists(pk)",
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                }
            )
        try:
            self._transact("publish the image", operations)
        except ImageConflict as conflict:
            if claim and _refused(conflict.__cause__, len(operations) - 1):
                holder = _claim_holder(conflict.__cause__, len(operations) - 1) or self.claim_of(
                    ready.user_id, ready.sha256
                )
                if holder is not None:
                    raise DuplicateImage(holder) from conflict
            raise
        self._count_tags(ready.tags, +1)
        return ready

    def claim_of(self, user_id: str, sha256: str) -> str | None:
        with translate_errors("read the claim on the bytes"):
            response = self._client.get_item(
                TableName=self._table, Key=items.claim_key(user_id, sha256), ConsistentRead=True
            )
        item = response.get("Item")
        return item["image_id"]["S"] if item else None

    def replace(self, old: Image, new: Image) -> Image:
        before, after = items.entry_partitions(old), items.entry_partitions(new)
        fields = items.to_item(new)
        condition = _condition(ImageStatus.READY, unchanged_since=old)
        update = {
            "Update": {
                "TableName": self._table,
                "Key": items.meta_key(new.image_id),
                "UpdateExpression": "SET #d = :d, #t = :t, #m = :m, #u = :u, #v = :v",
                "ConditionExpression": condition.expression,
                "ExpressionAttributeNames": condition.names
                | {"#d": "description", "#t": "tags", "#m": "metadata", "#u": "updated_at"},
                "ExpressionAttributeValues": condition.values
                | {
                    ":d": fields["description"],
                    ":t": fields["tags"],
                    ":m": fields["metadata"],
                    ":u": fields["updated_at"],
                    ":v": fields["version"],
                },
            }
        }
        self._transact(
            "update the image",
            [
                update,
                *self._deletes(before - after, new.image_id),
                *self._puts(after - before, new.image_id),
            ],
        )
        self._count_tags(tuple(set(old.tags) - set(new.tags)), -1)
        self._count_tags(tuple(set(new.tags) - set(old.tags)), +1)
        return new

    def hide(self, image: Image) -> Image:
        deleting = image.with_status(ImageStatus.DELETING)
        operations = [
            self._set_status(deleting, expected=ImageStatus.READY, unchanged_since=image),
            *self._deletes(items.entry_partitions(image), image.image_id),
            *self._delete_keys(items.taken_entry_keys(image)),
        ]
        # Only the image that holds the claim releases it: another image of the same bytes,
        # published while duplicates were allowed, leaves it alone.
        if self.claim_of(image.user_id, image.sha256) == image.image_id:
            operations.append(
                {
                    "Delete": {
                        "TableName": self._table,
                        "Key": items.claim_key(image.user_id, image.sha256),
                        "ConditionExpression": "image_id = :id",
                        "ExpressionAttributeValues": {":id": {"S": image.image_id}},
                    }
                }
            )
        self._transact("hide the image", operations)
        self._count_tags(image.tags, -1)
        return deleting

    def abandon(self, image: Image) -> Image:
        abandoned = image.with_status(ImageStatus.DELETING)
        update = self._set_status(abandoned, expected=ImageStatus.PENDING, remove_sweep=False)
        self._transact("abandon the upload", [update])
        return abandoned

    def remove(self, image_id: str) -> None:
        with translate_errors("remove the image"):
            self._client.delete_item(TableName=self._table, Key=items.meta_key(image_id))

    def release_claim(self, user_id: str, sha256: str, image_id: str) -> None:
        with suppress(ImageConflict), translate_errors("release the claim on the bytes"):
            self._client.delete_item(
                TableName=self._table,
                Key=items.claim_key(user_id, sha256),
                ConditionExpression="image_id = :id",
                ExpressionAttributeValues={":id": {"S": image_id}},
            )

    def get(self, image_id: str) -> Image | None:
        with translate_errors("read the image"):
            response = self._client.get_item(
                TableName=self._table, Key=items.meta_key(image_id), ConsistentRead=True
            )
        item = response.get("Item")
        return items.from_item(item) if item else None

    def get_many(self, image_ids: Sequence[str]) -> list[Image]:
        return self._reader.load([items.meta_key(image_id) for image_id in image_ids])

    def search(self, query: ImageQuery, position: dict[str, str] | None) -> Page:
        return self._reader.search(query, position)

    def unfinished(self, older_than: datetime) -> Iterator[Image]:
        _, newest_stale = id_time_bounds(None, older_than)
        low, high = keys.pending_range(newest_stale)
        for shard in range(keys.SWEEP_SHARDS):
            for condition, values in (
                ("sweep_sk BETWEEN :lo AND :hi", {":lo": low, ":hi": high}),
                ("begins_with(sweep_sk, :d)", {":d": keys.SWEEP_DELETING}),
            ):
                for key in self._sweep_keys(keys.sweep_partition(shard), condition, values):
                    image = self.get(keys.image_id_of_sweep_key(key["sweep_sk"]["S"]))
                    if image is not None and image.status is not ImageStatus.READY:
                        yield image

    def add_rendition(self, image_id: str, rendition: RenditionInfo) -> None:
        with translate_errors("record the rendition"):
            self._client.update_item(
                TableName=self._table,
                Key=items.meta_key(image_id),
                # ADD to a string set: a member already there is not added twice.
                UpdateExpression="ADD renditions :r",
                ConditionExpression="#s = :ready",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":r": {"SS": [items.rendition_member(rendition)]},
                    ":ready": {"S": ImageStatus.READY.value},
                },
            )

    def check(self) -> None:
        with translate_errors("describe the table"):
            status = self._client.describe_table(TableName=self._table)["Table"]["TableStatus"]
        if status not in ("ACTIVE", "UPDATING"):
            raise StorageUnavailable(f"Table {self._table} is {status}")

    def _sweep_keys(
        self, partition: str, condition: str, values: dict[str, str]
    ) -> Iterator[dict[str, Any]]:
        paginator = self._client.get_paginator("query")
        with translate_errors("find unfinished images"):
            for page in paginator.paginate(
                TableName=self._table,
                IndexName=SWEEP_INDEX,
                KeyConditionExpression=f"sweep_pk = :p AND {condition}",
                ExpressionAttributeValues={
                    ":p": {"S": partition},
                    **{name: {"S": value} for name, value in values.items()},
                },
            ):
                yield from page.get("Items", [])

    def _set_status(
        self,
        image: Image,
        *,
        expected: ImageStatus,
        remove_sweep: bool = False,
        unchanged_since: Image | None = None,
    ) -> dict[str, Any]:
        condition = _condition(expected, unchanged_since)
        values = condition.values | {":new": {"S": image.status.value}}
        if remove_sweep:
            expression = "SET #s = :new REMOVE sweep_pk, sweep_sk"
        else:
            expression = "SET #s = :new, sweep_pk = :spk, sweep_sk = :ssk"
            sweep = items.sweep_keys(image)
            values |= {":spk": {"S": sweep["sweep_pk"]}, ":ssk": {"S": sweep["sweep_sk"]}}
        return {
            "Update": {
                "TableName": self._table,
                "Key": items.meta_key(image.image_id),
                "UpdateExpression": expression,
                "ConditionExpression": condition.expression,
                "ExpressionAttributeNames": condition.names,
                "ExpressionAttributeValues": values,
            }
        }

    def _puts(self, partitions: set[str], image_id: str) -> list[dict[str, Any]]:
        return [
            {"Put": {"TableName": self._table, "Item": items.entry_key(p, image_id)}}
            for p in sorted(partitions)
        ]

    def _deletes(self, partitions: set[str], image_id: str) -> list[dict[str, Any]]:
        return [
            {"Delete": {"TableName": self._table, "Key": items.entry_key(p, image_id)}}
            for p in sorted(partitions)
        ]

    def _put_keys(self, item_keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{"Put": {"TableName": self._table, "Item": key}} for key in item_keys]

    def _delete_keys(self, item_keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{"Delete": {"TableName": self._table, "Key": key}} for key in item_keys]

    def _transact(self, action: str, operations: list[dict[str, Any]]) -> None:
        with translate_errors(action):
            self._client.transact_write_items(TransactItems=operations)  # type: ignore[arg-type]

    def _register_day(self, day: str) -> None:
        """Record that ``day`` holds images, once per process, so listings can skip empty days."""
        if day in self._known_days:
            return
        with translate_errors("register the upload day"):
            self._client.put_item(
                TableName=self._table,
                Item=items.day_item(day),
            )
        self._known_days.add(day)

    def _count_tags(self, tags: tuple[str, ...], delta: int) -> None:
        for tag in tags:
            try:
                self._client.update_item(
                    TableName=self._table,
                    Key=items.tag_counter_key(tag),
                    UpdateExpression="ADD n :delta",
                    ExpressionAttributeValues={":delta": {"N": str(delta)}},
                )
            except Exception:  # only an estimate for query planning: never fail the request
                log.warning("could not update the counter of tag %r", tag)


def _reasons(error: BaseException | None) -> list[dict[str, Any]]:
    if not isinstance(error, ClientError):
        return []
    reasons: list[dict[str, Any]] = error.response.get("CancellationReasons", [])  # type: ignore[assignment]
    return reasons


def _refused(error: BaseException | None, index: int) -> bool:
    """Whether the transaction was cancelled because operation ``index``'s condition failed."""
    reasons = _reasons(error)
    return len(reasons) > index and reasons[index].get("Code") == "ConditionalCheckFailed"


def _claim_holder(error: BaseException | None, index: int) -> str | None:
    """The image id in the claim that refused operation ``index``, when DynamoDB returned it."""
    item = _reasons(error)[index].get("Item") or {}
    holder = item.get("image_id", {}).get("S")
    return holder if isinstance(holder, str) else None


@dataclass(frozen=True)
class _Condition:
    expression: str
    names: dict[str, str]
    values: dict[str, Any]


def _condition(expected: ImageStatus, unchanged_since: Image | None = None) -> _Condition:
    """The stored item is in ``expected`` status and, for a write computed from an image read
    before (``unchanged_since``), still at that version and of that owner. The owner is part of
    it so that no bug above the repository can make a write land on another user's item."""
    condition = _Condition("#s = :expected", {"#s": "status"}, {":expected": {"S": expected.value}})
    if unchanged_since is None:
        return condition
    # Items written before versions existed have none: they are version 1.
    version = "#v = :read_version"
    if unchanged_since.version == 1:
        version = f"(attribute_not_exists(#v) OR {version})"
    return _Condition(
        f"{condition.expression} AND {version} AND #o = :owner",
        condition.names | {"#v": "version", "#o": "user_id"},
        condition.values
        | {
            ":read_version": {"N": str(unchanged_since.version)},
            ":owner": {"S": unchanged_since.user_id},
        },
    )
