"""ImageRepository on one DynamoDB table, through an injected boto3 client.

An image is created READY, with all its listing entries, in one transaction (the upload writes
no PENDING item first); status changes and PATCHes rewrite the entries, which carry the listing
projection, in the same transaction as the metadata item. So a listing shows an image exactly
when its metadata says READY, and shows it as stored.

Transactions hold at most ``MAX_TRANSACTION_ITEMS``. Publish and delete touch ``1 + 4 + 3 x
tags`` items (65 at 20 tags). A PATCH puts every entry of the new image and deletes those of
the partitions it leaves: ``1 + 4 + 3 x (new tags + removed tags)``, over 100 when a PATCH swaps
more than 31 tags (20 tags for 20 others: 125). Such a PATCH is written as two transactions,
each conditional on the version before it: first the new fields with the tags kept (entries of
removed tags deleted), then the added tags; the image goes up two versions, and a crash between
the two leaves a consistent image with the tags kept.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ulid import ULID

from service.adapters.aws_errors import translate_errors
from service.adapters.dynamodb import items, keys
from service.adapters.dynamodb.search import ListingReader
from service.adapters.dynamodb.table import SWEEP_INDEX
from service.errors import StorageUnavailable
from service.model import Image, ImageQuery, ImageStatus, Page, id_time_bounds

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

log = logging.getLogger(__name__)

MAX_TRANSACTION_ITEMS = 100


class DynamoDBImageRepository:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table
        self._reader = ListingReader(client, table)
        self._known_days: set[str] = set()

    def publish(self, image: Image) -> Image:
        self._register_day(items.day_of(image))
        ready = image.with_status(ImageStatus.READY)
        create = {
            "Put": {
                "TableName": self._table,
                "Item": items.to_item(ready),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        self._transact("publish the image", [create, *self._puts(ready)])
        return ready

    def replace(self, old: Image, new: Image) -> Image:
        removed = items.entry_partitions(old) - items.entry_partitions(new)
        if 1 + len(items.entry_partitions(new)) + len(removed) <= MAX_TRANSACTION_ITEMS:
            return self._replace_once(old, new)
        kept = tuple(tag for tag in new.tags if tag in set(old.tags))
        step = self._replace_once(old, dataclasses.replace(new, tags=kept))
        return self._replace_once(step, dataclasses.replace(new, version=new.version + 1))

    def _replace_once(self, old: Image, new: Image) -> Image:
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
            [update, *self._deletes(before - after, new.image_id), *self._puts(new)],
        )
        return new

    def hide(self, image: Image) -> Image:
        deleting = image.with_status(ImageStatus.DELETING)
        self._transact(
            "hide the image",
            [
                self._set_status(deleting, expected=ImageStatus.READY, unchanged_since=image),
                *self._deletes(items.entry_partitions(image), image.image_id),
            ],
        )
        return deleting

    def claim_orphan(self, image_id: str) -> Image:
        claimed = _placeholder(image_id)
        item = items.to_item(claimed) | {"sweep_sk": {"S": keys.claimed_sort_key(image_id)}}
        with translate_errors("claim the leftover upload"):
            self._client.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression="attribute_not_exists(pk) OR #s = :pending",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":pending": {"S": ImageStatus.PENDING.value}},
            )
        return claimed

    def remove(self, image_id: str) -> None:
        with translate_errors("remove the image"):
            self._client.delete_item(TableName=self._table, Key=items.meta_key(image_id))

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

    def forget_claims(self, older_than: datetime) -> int:
        _, newest = id_time_bounds(None, older_than)
        low, high = keys.claimed_range(newest)
        forgotten = 0
        for shard in range(keys.SWEEP_SHARDS):
            condition = "sweep_sk BETWEEN :lo AND :hi"
            values = {":lo": low, ":hi": high}
            for key in self._sweep_keys(keys.sweep_partition(shard), condition, values):
                self.remove(keys.image_id_of_sweep_key(key["sweep_sk"]["S"]))
                forgotten += 1
        return forgotten

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

    def _puts(self, image: Image) -> list[dict[str, Any]]:
        return [{"Put": {"TableName": self._table, "Item": item}} for item in items.entries(image)]

    def _deletes(self, partitions: set[str], image_id: str) -> list[dict[str, Any]]:
        return [
            {"Delete": {"TableName": self._table, "Key": items.entry_key(p, image_id)}}
            for p in sorted(partitions)
        ]

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


def _placeholder(image_id: str) -> Image:
    """What the sweeper writes to claim the bytes of an upload that never published: a
    DELETING image with nothing but its id, so that a late publish fails and a crashed sweep is
    finished by the next one."""
    created = ULID.from_str(image_id).datetime
    return Image(
        image_id=image_id,
        user_id="",
        content_type="",
        size_bytes=0,
        width=0,
        height=0,
        sha256="",
        original_filename="",
        created_at=created,
        updated_at=created,
        status=ImageStatus.DELETING,
    )
