"""How images and listing entries are written as DynamoDB items (key spellings: keys.py)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from service.adapters.dynamodb import keys
from service.model import Image, ImageStatus

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

Item = dict[str, Any]


def meta_key(image_id: str) -> Item:
    return {"pk": {"S": keys.image_partition(image_id)}, "sk": {"S": keys.META}}


def day_of(image: Image) -> str:
    return image.created_at.strftime("%Y-%m-%d")


def entry_partitions(image: Image) -> set[str]:
    """Every listing partition the image appears in while READY."""
    return keys.entry_partitions(image.user_id, image.content_type, day_of(image), image.tags)


def entry_key(partition: str, image_id: str) -> Item:
    return {"pk": {"S": partition}, "sk": {"S": image_id}}


def day_item(day: str) -> Item:
    return {"pk": {"S": keys.DAYS}, "sk": {"S": day}}


def tag_counter_key(tag: str) -> Item:
    return {"pk": {"S": keys.tag_counter_partition(tag)}, "sk": {"S": keys.COUNTER}}


def claim_key(user: str, sha256: str) -> Item:
    return {"pk": {"S": keys.claim_partition(user, sha256)}, "sk": {"S": keys.CLAIM}}


def claim_item(image: Image) -> Item:
    return claim_key(image.user_id, image.sha256) | {"image_id": {"S": image.image_id}}


def sweep_keys(image: Image) -> dict[str, str]:
    """Index keys that put a not-READY image in the sparse ``sweep`` index."""
    return {
        "sweep_pk": keys.sweep_partition(keys.sweep_shard(image.image_id)),
        "sweep_sk": keys.sweep_sort_key(
            image.image_id, pending=image.status is ImageStatus.PENDING
        ),
    }


def to_item(image: Image) -> Item:
    plain: dict[str, Any] = {
        "pk": keys.image_partition(image.image_id),
        "sk": keys.META,
        "image_id": image.image_id,
        "user_id": image.user_id,
        "content_type": image.content_type,
        "size_bytes": image.size_bytes,
        "width": image.width,
        "height": image.height,
        "sha256": image.sha256,
        "original_filename": image.original_filename,
        "created_at": image.created_at.isoformat(),
        "updated_at": image.updated_at.isoformat(),
        "description": image.description,
        "tags": list(image.tags),
        # JSON keeps floats exact and spares DynamoDB's Decimal round trip.
        "metadata": json.dumps(image.metadata, separators=(",", ":")),
        "status": image.status.value,
        "version": image.version,
    }
    if image.status is not ImageStatus.READY:
        plain |= sweep_keys(image)
    return {name: _serializer.serialize(value) for name, value in plain.items()}


def from_item(item: Item) -> Image:
    plain = {name: _deserializer.deserialize(value) for name, value in item.items()}
    return Image(
        image_id=plain["image_id"],
        user_id=plain["user_id"],
        content_type=plain["content_type"],
        size_bytes=int(plain["size_bytes"]),
        width=int(plain["width"]),
        height=int(plain["height"]),
        sha256=plain["sha256"],
        original_filename=plain["original_filename"],
        created_at=datetime.fromisoformat(plain["created_at"]),
        updated_at=datetime.fromisoformat(plain["updated_at"]),
        description=plain.get("description", ""),
        tags=tuple(plain.get("tags", ())),
        metadata=json.loads(plain.get("metadata", "{}")),
        status=ImageStatus(plain["status"]),
        # Items written before versions existed are version 1.
        version=int(plain.get("version", 1)),
    )
