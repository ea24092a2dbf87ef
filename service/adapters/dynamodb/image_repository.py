"""ImageRepository on one DynamoDB table, through an injected boto3 client.

An image is created READY, with all its entries, in one transaction; status changes, PATCHes
and renditions rewrite the entries, which carry the listing projection, in the same transaction
as the metadata item. So a listing shows an image exactly when its metadata says READY, and
shows it as stored.

Transactions hold at most ``MAX_TRANSACTION_ITEMS``. Publish and delete touch the metadata item,
``4 + 3 x tags`` listing entries, 2 capture-time entries when the image records a capture time,
and with duplicate detection the claim on its bytes: 68 items at 20 tags. A PATCH puts every
entry of the new image and deletes those of the partitions it leaves: ``1 + 6 + 3 x (new tags +
removed tags)``, over 100 when a PATCH swaps more than 31 tags (20 tags for 20 others: 127).
Such a PATCH is written as two transactions, each conditional on the version before it: first
the new fields with the tags kept (entries of removed tags deleted), then the added tags; the
image goes up two versions, and a crash between the two leaves a consistent image with the tags
kept.
A transaction also holds at most 4 MB: entries leave out custom metadata too large to copy
into each of them (``items.ENTRY_BUDGET``), which keeps an image's transaction near 1 MB at most.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import suppress
from datetime import datetime
from typing import TYPE_CHECKING, Any

from msgspec import structs

from service.adapters.aws_errors import translate_errors
from service.adapters.dynamodb import conditions, items, keys
from service.adapters.dynamodb.search import ListingReader
from service.adapters.dynamodb.similar import SimilarImages
from service.adapters.dynamodb.table import SWEEP_INDEX
from service.domain.errors import DuplicateImage, ImageConflict, StorageUnavailable
from service.domain.model import (
    Image,
    ImageQuery,
    ImageStatus,
    Page,
    Placeholder,
    RenditionInfo,
    id_time_bounds,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

log = logging.getLogger(__name__)

MAX_TRANSACTION_ITEMS = 100
RENDITION_ATTEMPTS = 3


class DynamoDBImageRepository:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table
        self._reader = ListingReader(client, table)
        self._similar = SimilarImages(client, table)
        self._known_days: set[str] = set()

    def publish(self, image: Image, *, claim: bool = False) -> Image:
        self._register_day(items.day_of(image))
        ready = image.with_status(ImageStatus.READY)
        create = {
            "Put": {
                "TableName": self._table,
                "Item": items.to_item(ready),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        operations = [create, *self._puts(ready)]
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
            if claim and conditions.refused(conflict.__cause__, len(operations) - 1):
                holder = conditions.claim_holder(
                    conflict.__cause__, len(operations) - 1
                ) or self.claim_of(ready.user_id, ready.sha256)
                if holder is not None:
                    raise DuplicateImage(holder) from conflict
            raise
        return ready

    def claim_of(self, user_id: str, sha256: str) -> str | None:
        with translate_errors("read the claim on the bytes"):
            response = self._client.get_item(
                TableName=self._table, Key=items.claim_key(user_id, sha256), ConsistentRead=True
            )
        item = response.get("Item")
        return item["image_id"]["S"] if item else None

    def replace(self, old: Image, new: Image) -> Image:
        removed = items.entry_keys(old) - items.entry_keys(new)
        if 1 + len(items.entry_keys(new)) + len(removed) <= MAX_TRANSACTION_ITEMS:
            return self._replace_once(old, new)
        kept = tuple(tag for tag in new.tags if tag in set(old.tags))
        step = self._replace_once(old, structs.replace(new, tags=kept))
        return self._replace_once(step, structs.replace(new, version=new.version + 1))

    def _replace_once(self, old: Image, new: Image) -> Image:
        fields = items.to_item(new)
        condition = conditions.condition_on(ImageStatus.READY, unchanged_since=old)
        # The entries are rewritten whole from ``old``: a rendition recorded since it was read
        # (which changes no version) must make this write fail, or the entries would lose it.
        if old.renditions:
            condition = condition.extended(
                "size(renditions) = :renditions", {":renditions": {"N": str(len(old.renditions))}}
            )
        else:
            condition = condition.extended("attribute_not_exists(renditions)", {})
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
        removed = items.entry_keys(old) - items.entry_keys(new)
        self._transact("update the image", [update, *self._deletes(removed), *self._puts(new)])
        return new

    def hide(self, image: Image) -> Image:
        deleting = image.with_status(ImageStatus.DELETING)
        operations = [
            self._set_status(deleting, expected=ImageStatus.READY, unchanged_since=image),
            *self._deletes(items.entry_keys(image) | items.similar_keys(image)),
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
        return deleting

    def tombstone(self, image_id: str) -> Image:
        tombstone = conditions.tombstone_of(image_id)
        item = items.to_item(tombstone) | {"sweep_sk": {"S": keys.tombstone_sort_key(image_id)}}
        with translate_errors("mark the leftover upload"):
            self._client.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression="attribute_not_exists(pk)",
            )
        return tombstone

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

    def unfinished(self) -> Iterator[Image]:
        for shard in range(keys.SWEEP_SHARDS):
            condition = "begins_with(sweep_sk, :d)"
            values = {":d": keys.SWEEP_DELETING}
            for key in self._sweep_keys(keys.sweep_partition(shard), condition, values):
                image = self.get(keys.image_id_of_sweep_key(key["sweep_sk"]["S"]))
                if image is not None and image.status is ImageStatus.DELETING:
                    yield image

    def forget_tombstones(self, older_than: datetime) -> int:
        _, newest = id_time_bounds(None, older_than)
        low, high = keys.tombstone_range(newest)
        forgotten = 0
        for shard in range(keys.SWEEP_SHARDS):
            condition = "sweep_sk BETWEEN :lo AND :hi"
            values = {":lo": low, ":hi": high}
            for key in self._sweep_keys(keys.sweep_partition(shard), condition, values):
                self.remove(keys.image_id_of_sweep_key(key["sweep_sk"]["S"]))
                forgotten += 1
        return forgotten

    def add_rendition(
        self,
        image_id: str,
        rendition: RenditionInfo,
        *,
        placeholder: Placeholder | None = None,
        phash: str | None = None,
    ) -> None:
        """On the metadata item and on every entry (the list shows renditions and
        placeholders), in one transaction conditional on the version read, which fixes the
        entries' keys."""
        for _ in range(RENDITION_ATTEMPTS):
            image = self.get(image_id)
            if image is None or image.status is not ImageStatus.READY:
                raise ImageConflict(f"Image {image_id} is not READY")
            if (
                rendition in image.renditions
                and (placeholder is None or image.blurhash == placeholder.blurhash)
                and (phash is None or image.phash == phash)
            ):
                return
            read = conditions.condition_on(ImageStatus.READY, unchanged_since=image)
            # ADD to a string set: a member already there is not added twice.
            values: dict[str, Any] = {":r": {"SS": [items.rendition_member(rendition)]}}
            update = "ADD renditions :r"
            sets = []
            if placeholder is not None:
                sets += ["blurhash = :b", "dominant_color = :c"]
                values |= {
                    ":b": {"S": placeholder.blurhash},
                    ":c": {"S": placeholder.dominant_color},
                }
            if phash is not None:
                sets.append("phash = :h")
                values[":h"] = {"S": phash}
            if sets:
                update += " SET " + ", ".join(sets)
            operations = [
                self._add_rendition(items.meta_key(image_id), update, read.with_values(values)),
                *(
                    self._add_rendition(
                        items.key_item(pk, sk),
                        update,
                        conditions.Condition("attribute_exists(pk)", {}, values),
                    )
                    for pk, sk in sorted(items.entry_keys(image))
                ),
                *self._band_puts(image, phash),
            ]
            with suppress(ImageConflict):
                self._transact("record the rendition", operations)
                return
        raise ImageConflict(f"Image {image_id} kept changing; the rendition is not recorded")

    def _add_rendition(
        self, key: dict[str, Any], expression: str, condition: conditions.Condition
    ) -> dict[str, Any]:
        update: dict[str, Any] = {
            "TableName": self._table,
            "Key": key,
            "UpdateExpression": expression,
            "ConditionExpression": condition.expression,
            "ExpressionAttributeValues": condition.values,
        }
        if condition.names:
            update["ExpressionAttributeNames"] = condition.names
        return {"Update": update}

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
        unchanged_since: Image | None = None,
    ) -> dict[str, Any]:
        condition = conditions.condition_on(expected, unchanged_since)
        values = condition.values | {":new": {"S": image.status.value}}
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

    def similar(self, user_id: str, phash: str) -> list[tuple[str, int]]:
        return self._similar.near(user_id, phash)

    def _band_puts(self, image: Image, phash: str | None) -> list[dict[str, Any]]:
        """The band items of ``phash`` (near-duplicates), in place of the image's old ones."""
        if phash is None:
            return []
        now = items.similar_keys(structs.replace(image, phash=phash))
        gone = items.similar_keys(image) - now
        puts = [
            {"Put": {"TableName": self._table, "Item": items.similar_item(pk, sk, phash)}}
            for pk, sk in sorted(now)
        ]
        return puts + self._deletes(gone)

    def _deletes(self, entry_keys: set[tuple[str, str]]) -> list[dict[str, Any]]:
        return [
            {"Delete": {"TableName": self._table, "Key": items.key_item(pk, sk)}}
            for pk, sk in sorted(entry_keys)
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
