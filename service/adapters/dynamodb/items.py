"""How images and listing entries are written as DynamoDB items (key spellings: keys.py)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from msgspec.structs import asdict

from service.adapters.dynamodb import keys
from service.adapters.dynamodb.sizes import KB, item_size
from service.domain.model import ExifSummary, GeoPoint, Image, ImageStatus, RenditionInfo
from service.domain.similarity import bands

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


def entry_keys(image: Image) -> set[tuple[str, str]]:
    """The (pk, sk) of every entry the image has while READY: its listing entries, and its
    capture-time entries when it records a capture time."""
    found = {(partition, image.image_id) for partition in entry_partitions(image)}
    taken = image.taken_at
    if taken is not None:
        sort_key = keys.taken_sort_key(taken, image.image_id)
        found |= {
            (partition, sort_key) for partition in keys.taken_partitions(image.user_id, taken)
        }
    return found


def rendition_member(rendition: RenditionInfo) -> str:
    """A rendition as a member of the ``renditions`` string set: ``size:format:widthxheight``.
    Two renders of one size and format are the same bytes, so the same member."""
    return f"{rendition.size}:{rendition.format}:{rendition.width}x{rendition.height}"


def rendition_of_member(member: str) -> RenditionInfo:
    size, fmt, dimensions = member.split(":")
    width, height = dimensions.split("x")
    return RenditionInfo(size=int(size), format=fmt, width=int(width), height=int(height))


def entry_key(partition: str, image_id: str) -> Item:
    return key_item(partition, image_id)


def day_item(day: str) -> Item:
    return {"pk": {"S": keys.DAYS}, "sk": {"S": day}}


def key_item(pk: str, sk: str) -> Item:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


# An image's transaction holds its metadata item and up to 67 entries within DynamoDB's 4 MB.
# Custom metadata alone may reach about 250 KB (20 fields of 1,024 characters; JSON escapes a
# character outside ASCII as 6 or 12 bytes): copied into every entry, that is some 16 MB. So an
# entry carries the custom metadata only while the metadata item is under ENTRY_BUDGET; above
# it the entry leaves it out (without it an entry stays under 16 KB), says so (PARTIAL), and a
# listing reads it from the metadata item.
ENTRY_BUDGET = 16 * KB
PARTIAL = "partial"


def entries(image: Image) -> list[Item]:
    """Every entry of a READY image, in key order, each carrying the listing projection: every
    attribute of the metadata item (so every field of the image, present and future) under the
    entry's own key, the custom metadata left out when the item is over ENTRY_BUDGET."""
    projection = to_item(image)
    if item_size(projection) > ENTRY_BUDGET:
        projection = {k: v for k, v in projection.items() if k != "metadata"}
        projection[PARTIAL] = {"BOOL": True}
    return [projection | key_item(pk, sk) for pk, sk in sorted(entry_keys(image))]


def is_partial(entry: Item) -> bool:
    """Whether a listing entry leaves out the custom metadata (see ENTRY_BUDGET)."""
    return PARTIAL in entry


def claim_key(user: str, sha256: str) -> Item:
    return {"pk": {"S": keys.claim_partition(user, sha256)}, "sk": {"S": keys.CLAIM}}


def claim_item(image: Image) -> Item:
    return claim_key(image.user_id, image.sha256) | {"image_id": {"S": image.image_id}}


def similar_keys(image: Image) -> set[tuple[str, str]]:
    """The (pk, sk) of the image's band items (near-duplicates), none without a hash."""
    if image.phash is None:
        return set()
    return {
        (keys.similar_partition(image.user_id, band), image.image_id) for band in bands(image.phash)
    }


def similar_item(pk: str, image_id: str, phash: str) -> Item:
    return key_item(pk, image_id) | {"phash": {"S": phash}}


def sweep_keys(image: Image) -> dict[str, str]:
    """Index keys that put a DELETING image in the sparse ``sweep`` index."""
    return {
        "sweep_pk": keys.sweep_partition(keys.sweep_shard(image.image_id)),
        "sweep_sk": keys.deleting_sort_key(image.image_id),
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
    derived: dict[str, Any] = {
        "pixel_width": image.pixel_width,
        "pixel_height": image.pixel_height,
        "exif": _json(asdict(image.exif)) if image.exif else None,
        "location": _json(asdict(image.location)) if image.location else None,
        "blurhash": image.blurhash,
        "dominant_color": image.dominant_color,
        "phash": image.phash,
        # A string set: recording a rendition is an ADD, idempotent under concurrency.
        "renditions": {rendition_member(r) for r in image.renditions} or None,
    }
    plain |= {name: value for name, value in derived.items() if value is not None}
    if image.status is not ImageStatus.READY:
        plain |= sweep_keys(image)
    return {name: _serializer.serialize(value) for name, value in plain.items()}


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


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
        pixel_width=int(plain["pixel_width"]) if "pixel_width" in plain else None,
        pixel_height=int(plain["pixel_height"]) if "pixel_height" in plain else None,
        exif=ExifSummary.from_dict(json.loads(plain["exif"])) if "exif" in plain else None,
        location=GeoPoint(**json.loads(plain["location"])) if "location" in plain else None,
        blurhash=plain.get("blurhash"),
        dominant_color=plain.get("dominant_color"),
        phash=plain.get("phash"),
        renditions=tuple(
            sorted(
                (rendition_of_member(m) for m in plain.get("renditions", ())),
                key=lambda r: (r.size, r.format),
            )
        ),
    )
