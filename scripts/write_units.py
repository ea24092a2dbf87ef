"""DynamoDB write units of an upload and of a PATCH, computed from the writes the repository makes.

    .venv/bin/python scripts/write_units.py

The repository runs against moto in this process; every ``TransactWriteItems`` it sends is
priced the way DynamoDB prices it (on-demand or provisioned alike): each item costs 1 write unit
per KB (rounded up) of the larger of its size before and after the write (a Delete: before),
and twice that inside a transaction. Item sizes follow DynamoDB's rules
(``service/adapters/dynamodb/sizes.py``). The one non-transactional write of an upload, the day
registry, is put once per process and day and is not counted. moto reports a constant
ConsumedCapacity, hence the arithmetic here.

Two images: a typical one (3 tags, a few custom fields, EXIF with a capture time, placeholder)
whose items are under 1 KB, and one at every limit (20 tags of 64 characters, every custom field
as long as allowed, the longest description and file name), in ASCII and in CJK text (3 bytes a
character in UTF-8, 6 in the metadata's JSON).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from moto import mock_aws
from msgspec.structs import replace

from service.adapters.dynamodb.image_repository import DynamoDBImageRepository
from service.adapters.dynamodb.sizes import item_size, write_units
from service.bootstrap import dynamodb_client
from service.domain import rules
from service.domain.model import (
    ExifSummary,
    Image,
    ImageStatus,
    RenditionInfo,
    new_image_id,
    utc_now,
)
from service.domain.rules import (
    MAX_DESCRIPTION_LENGTH,
    MAX_FILENAME_LENGTH,
    MAX_METADATA_KEY_LENGTH,
    MAX_METADATA_KEYS,
    MAX_METADATA_VALUE_LENGTH,
    MAX_TAG_LENGTH,
    MAX_TAGS,
    MetadataValue,
)
from service.entrypoints.provisioning import create_resources
from service.settings import Settings


@dataclass
class Meter:
    """Prices every TransactWriteItems of ``client`` (moto), reading each item before and
    after the call."""

    client: Any
    table: str
    transactions: list[int] = field(default_factory=list)
    largest_item: int = 0

    def attach(self) -> Meter:
        events = self.client.meta.events
        events.register("provide-client-params.dynamodb.TransactWriteItems", self._before)
        events.register("after-call.dynamodb.TransactWriteItems", self._after)
        return self

    def reset(self) -> None:
        self.transactions.clear()

    def _before(self, params: dict[str, Any], **_: Any) -> None:
        self._pending = [(kind, key, self._read(key)) for kind, key in _ops(params)]

    def _after(self, **_: Any) -> None:
        total = 0
        for kind, key, before in self._pending:
            after = 0 if kind == "Delete" else self._read(key)
            self.largest_item = max(self.largest_item, before, after)
            total += 2 * write_units(max(before, after))
        self.transactions.append(total)

    def _read(self, key: dict[str, Any]) -> int:
        found = self.client.get_item(TableName=self.table, Key=key, ConsistentRead=True)
        return item_size(found.get("Item"))


def _ops(params: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(kind, key) of each operation of a transaction."""
    for operation in params["TransactItems"]:
        ((kind, body),) = operation.items()
        item = body.get("Key") or body["Item"]
        yield kind, {"pk": item["pk"], "sk": item["sk"]}


def typical(minute: int) -> Image:
    now = utc_now()
    return Image(
        image_id=new_image_id(now),
        user_id="alice",
        content_type="image/jpeg",
        size_bytes=3_481_220,
        width=4032,
        height=3024,
        sha256="9f" * 32,
        original_filename="IMG_2044.jpg",
        created_at=now,
        updated_at=now,
        description="Sunset over the bay",
        tags=("sunset", "sea", "holiday"),
        metadata={"album": "Summer", "rating": 4},
        status=ImageStatus.READY,
        pixel_width=4032,
        pixel_height=3024,
        exif=ExifSummary(
            taken_at=f"2024-07-14T21:{minute:02d}:03+02:00",
            make="Apple",
            model="iPhone 13",
            exposure_time="1/120",
            f_number=1.6,
            iso=64,
            focal_length=5.1,
        ),
        blurhash="LEHV6nWB2yk8pyo0adR*.7kCMdnj",
        dominant_color="#c46a3b",
    )


def at_the_limits(minute: int, letter: str = "d") -> Image:
    """Every field as long as allowed, written with ``letter`` (its UTF-8 and JSON sizes)."""
    return replace(
        typical(minute),
        description=letter * MAX_DESCRIPTION_LENGTH,
        original_filename="f" * (MAX_FILENAME_LENGTH - 4) + ".jpg",
        tags=tuple(f"{n:02d}" + "t" * (MAX_TAG_LENGTH - 2) for n in range(MAX_TAGS)),
        metadata=largest_metadata(letter),
        renditions=tuple(
            RenditionInfo(size, fmt, size, size * 3 // 4)
            for size in (256, 1024)
            for fmt in ("jpeg", "webp", "avif")
        ),
    )


def largest_metadata(letter: str) -> dict[str, MetadataValue]:
    """Every custom field there may be, each name and value as long as allowed."""
    return rules.metadata(
        {
            f"{n:02d}" + "k" * (MAX_METADATA_KEY_LENGTH - 2): letter * MAX_METADATA_VALUE_LENGTH
            for n in range(MAX_METADATA_KEYS)
        }
    )


@contextmanager
def metered() -> Iterator[tuple[DynamoDBImageRepository, Meter]]:
    settings = Settings(s3_bucket_name="write-units", dynamodb_table_name="write-units")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "testing")
    os.environ.pop("AWS_ENDPOINT_URL", None)
    with mock_aws():
        create_resources(settings)
        client = dynamodb_client(settings)
        meter = Meter(client, settings.dynamodb_table_name).attach()
        yield DynamoDBImageRepository(client, settings.dynamodb_table_name), meter


def report(name: str, image: Image) -> None:
    with metered() as (repository, meter):
        stored = repository.publish(image)
        upload = sum(meter.transactions)
        meter.reset()
        twin = replace(image, image_id=new_image_id(utc_now()), sha256="0" * 64)
        repository.publish(twin, claim=True)
        dedupe = sum(meter.transactions)
        meter.reset()
        # Edits that keep the item's size, so that each figure is the cost at that size.
        described = repository.replace(
            stored,
            replace(stored, description=stored.description.swapcase(), version=stored.version + 1),
        )
        description = sum(meter.transactions)
        meter.reset()
        one_tag = replace(
            described,
            tags=(*described.tags[1:], "n" + described.tags[0][1:]),
            version=described.version + 1,
        )
        swapped = repository.replace(described, one_tag)
        tag = sum(meter.transactions)
        meter.reset()
        every = tuple(f"{n:02d}" + "u" * (len(tag) - 2) for n, tag in enumerate(swapped.tags))
        repository.replace(swapped, replace(swapped, tags=every, version=swapped.version + 1))
        all_tags = meter.transactions[:]
    print(f"{name}: {len(image.tags)} tags, largest item {meter.largest_item} bytes")
    print(f"  upload                     {upload:5} write units (1 transaction)")
    print(f"  upload with DEDUPE claim   {dedupe:5} write units (1 transaction)")
    print(f"  PATCH description          {description:5} write units (1 transaction)")
    print(f"  PATCH swapping one tag     {tag:5} write units (1 transaction)")
    print(
        f"  PATCH swapping every tag   {sum(all_tags):5} write units "
        f"({len(all_tags)} transaction{'s' if len(all_tags) > 1 else ''})"
    )


def main() -> None:
    report("typical image", typical(1))
    report("image at every limit, ASCII text", at_the_limits(2))
    report("image at every limit, CJK text", at_the_limits(3, "\u6f22"))


if __name__ == "__main__":
    main()
