"""Images and the value types around them. Plain data: no I/O, no framework."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from ulid import ULID

MAX_TAGS = 20
MAX_TAG_LENGTH = 64
MAX_DESCRIPTION_LENGTH = 2000
MAX_METADATA_KEYS = 20
MAX_METADATA_KEY_LENGTH = 64
MAX_METADATA_VALUE_LENGTH = 1024
MAX_USER_ID_LENGTH = 128
MAX_FILENAME_LENGTH = 255
THUMBNAIL_SIZES = (64, 128, 256, 512)  # longest side in pixels; a closed set keeps caching easy
DEFAULT_THUMBNAIL_SIZE = 256
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

# Used with fullmatch: '$' would also accept a trailing newline.
USER_ID_PATTERN = re.compile(rf"[A-Za-z0-9_.@-]{{1,{MAX_USER_ID_LENGTH}}}")
# Letters and digits of any script, with - and _ and single inner spaces. No '#' or ','
# (they delimit keys and query lists).
TAG_PATTERN = re.compile(r"[^\W_](?:[\w-]| (?! ))*")
METADATA_KEY_PATTERN = re.compile(rf"[A-Za-z0-9_.-]{{1,{MAX_METADATA_KEY_LENGTH}}}")
IMAGE_ID_PATTERN = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}")

MetadataValue = str | int | float | bool | None

# The formats the service accepts, by MIME type, with the extension a download is named with.
EXTENSION_BY_CONTENT_TYPE = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
}
ACCEPTED_CONTENT_TYPES = tuple(EXTENSION_BY_CONTENT_TYPE)

# Where the original bytes live in the bucket (see ``object_key``).
ORIGINALS_PREFIX = "originals/"


class ImageStatus(StrEnum):
    PENDING = "PENDING"  # bytes may be on their way to the store; invisible to users
    READY = "READY"
    DELETING = "DELETING"  # hidden from listings; bytes and metadata on their way out


@dataclass(frozen=True)
class ImageInfo:
    """What the image processor learned from the bytes themselves."""

    content_type: str
    width: int
    height: int
    frames: int = 1


@dataclass(frozen=True)
class Rendition:
    """Bytes derived from an original (a thumbnail), re-encoded: no EXIF, no payloads."""

    content_type: str
    data: bytes
    width: int
    height: int


@dataclass(frozen=True)
class Image:
    image_id: str
    user_id: str
    content_type: str
    size_bytes: int
    width: int
    height: int
    sha256: str
    original_filename: str
    created_at: datetime
    updated_at: datetime
    description: str = ""
    tags: tuple[str, ...] = ()
    metadata: dict[str, MetadataValue] = field(default_factory=dict)
    status: ImageStatus = ImageStatus.PENDING
    # Bumped by every change of the metadata; every write is conditional on the version read.
    version: int = 1

    @property
    def object_key(self) -> str:
        return object_key(self.image_id)

    def with_status(self, status: ImageStatus) -> Image:
        return replace(self, status=status)

    def to_dict(self) -> dict[str, Any]:
        return {
            "image_id": self.image_id,
            "version": self.version,
            "user_id": self.user_id,
            "description": self.description,
            "tags": list(self.tags),
            "metadata": dict(self.metadata),
            "content_type": self.content_type,
            "size_bytes": self.size_bytes,
            "width": self.width,
            "height": self.height,
            "sha256": self.sha256,
            "original_filename": self.original_filename,
            "status": self.status.value,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


def object_key(image_id: str) -> str:
    """Where the original bytes live. Renditions get their own prefixes later."""
    return f"{ORIGINALS_PREFIX}{image_id}"


def new_image_id(now: datetime) -> str:
    return str(ULID.from_datetime(now))


def is_image_id(value: str) -> bool:
    return bool(IMAGE_ID_PATTERN.fullmatch(value))


def id_time_bounds(start: datetime | None, end: datetime | None) -> tuple[str, str]:
    """The smallest and largest image id created within ``[start, end]`` (inclusive)."""
    low = "0" * 26 if start is None else _id_at(start, fill="0")
    high = "7" + "Z" * 25 if end is None else _id_at(end, fill="Z")
    return low, high


def _id_at(moment: datetime, fill: str) -> str:
    millis = max(0, int(moment.timestamp() * 1000))
    timestamp_part = str(ULID.from_timestamp(millis / 1000))[:10]
    return timestamp_part + fill * 16


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Caller:
    """Who is asking. ``user_id`` is None for an anonymous caller. ``unrestricted`` is the
    unauthenticated contract (``AUTH_MODE=none``): the client names the user and may do
    anything, as before sign-in existed."""

    user_id: str | None
    groups: frozenset[str] = frozenset()
    unrestricted: bool = False


@dataclass(frozen=True)
class NewImage:
    """An upload as the client described it, already validated and normalised. ``user_id`` is
    the owner the client named, if it named one."""

    user_id: str | None
    original_filename: str
    declared_content_type: str | None
    description: str = ""
    tags: tuple[str, ...] = ()
    metadata: dict[str, MetadataValue] = field(default_factory=dict)


@dataclass(frozen=True)
class ImageChanges:
    """A PATCH: ``None`` means leave the field as it is."""

    description: str | None = None
    tags: tuple[str, ...] | None = None
    metadata: dict[str, MetadataValue] | None = None


@dataclass(frozen=True)
class ImageQuery:
    """Filters of a listing. All given filters must match (tags: all of them)."""

    user_id: str | None = None
    tags: tuple[str, ...] = ()
    content_type: str | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None
    limit: int = DEFAULT_PAGE_SIZE

    def fingerprint(self) -> list[Any]:
        """What a cursor is bound to: the same filters, whatever the page size."""
        return [
            self.user_id,
            sorted(self.tags),
            self.content_type,
            self.date_from.isoformat() if self.date_from else None,
            self.date_to.isoformat() if self.date_to else None,
        ]


@dataclass(frozen=True)
class Page:
    items: list[Image]
    next_position: dict[str, str] | None
