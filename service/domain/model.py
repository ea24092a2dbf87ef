"""Images and the value types around them. Plain data: no I/O, no framework."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import msgspec
from msgspec.structs import replace

from service.domain.rules import DEFAULT_PAGE_SIZE, MetadataValue

# Rendition formats (their sizes, longest sides in pixels, are a setting: a closed, configured
# set keeps caching easy).
RENDITION_FORMATS = ("jpeg", "webp", "avif")  # jpeg is always made: the fallback
CONTENT_TYPE_BY_RENDITION_FORMAT = {
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "avif": "image/avif",
}

IMAGE_ID_PATTERN = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}")

# The formats the service accepts, by MIME type, with the extension a download is named with.
EXTENSION_BY_CONTENT_TYPE = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    # The photos phones and cameras make: HEIC (HEVC in HEIF), other HEIF, AVIF (AV1 in HEIF).
    "image/heic": ".heic",
    "image/heif": ".heif",
    "image/avif": ".avif",
}
ACCEPTED_CONTENT_TYPES = tuple(EXTENSION_BY_CONTENT_TYPE)

# Where the original bytes live in the bucket (see ``object_key``), and the renditions.
ORIGINALS_PREFIX = "originals/"
RENDITIONS_PREFIX = "renditions/"


class ImageStatus(StrEnum):
    READY = "READY"
    DELETING = "DELETING"  # hidden from listings; bytes and metadata on their way out


class ExifSummary(msgspec.Struct, frozen=True):
    """What an image's EXIF says about how it was taken. ``taken_at`` is DateTimeOriginal with
    its offset (OffsetTimeOriginal) when recorded, else naive local time, as ISO 8601 text."""

    taken_at: str | None = None
    make: str | None = None
    model: str | None = None
    lens: str | None = None
    exposure_time: str | None = None  # "1/125" or "2"
    f_number: float | None = None
    iso: int | None = None
    focal_length: float | None = None
    gps_present: bool = False

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExifSummary:
        names = set(cls.__struct_fields__)
        return cls(**{name: value for name, value in data.items() if name in names})

    @property
    def taken_at_utc(self) -> datetime | None:
        """The capture time as a UTC instant; a time without offset is taken as UTC."""
        if self.taken_at is None:
            return None
        moment = datetime.fromisoformat(self.taken_at)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class GeoPoint(msgspec.Struct, frozen=True):
    """Where a photo was taken, in decimal degrees (WGS 84)."""

    latitude: float
    longitude: float

    def rounded(self, decimals: int) -> GeoPoint:
        return GeoPoint(round(self.latitude, decimals), round(self.longitude, decimals))


class ImageInfo(msgspec.Struct, frozen=True):
    """What the image processor learned from the bytes themselves. ``width`` and ``height`` are
    the stored pixels; ``orientation`` is the EXIF Orientation (1: upright)."""

    content_type: str
    width: int
    height: int
    frames: int = 1
    orientation: int = 1
    exif: ExifSummary | None = None
    location: GeoPoint | None = None

    @property
    def displayed_size(self) -> tuple[int, int]:
        """Width and height as displayed: orientations 5 to 8 turn the image a quarter."""
        if self.orientation in (5, 6, 7, 8):
            return self.height, self.width
        return self.width, self.height


class Rendition(msgspec.Struct, frozen=True):
    """Bytes derived from an original (a thumbnail), re-encoded: no EXIF, no payloads."""

    content_type: str
    data: bytes
    width: int
    height: int
    format: str = "jpeg"


class RenditionInfo(msgspec.Struct, frozen=True):
    """A rendition stored next to an image: ``size`` is the longest side it was asked for."""

    size: int
    format: str
    width: int
    height: int


class Placeholder(msgspec.Struct, frozen=True):
    """What a client paints before any bytes load."""

    blurhash: str
    dominant_color: str  # "#rrggbb"


class Image(msgspec.Struct, frozen=True):
    """A published image: its metadata, what was read from its bytes, and its renditions."""

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
    metadata: dict[str, MetadataValue] = msgspec.field(default_factory=dict)
    status: ImageStatus = ImageStatus.READY
    # Bumped by every change of the metadata; every write is conditional on the version read.
    version: int = 1
    # Derived at upload from the bytes. ``width``/``height`` are as displayed (EXIF orientation
    # applied); ``pixel_width``/``pixel_height`` as stored (None: the same, older images).
    pixel_width: int | None = None
    pixel_height: int | None = None
    exif: ExifSummary | None = None
    location: GeoPoint | None = None  # the owner's to see only (service.domain.access)
    blurhash: str | None = None
    dominant_color: str | None = None
    # The perceptual hash (service.domain.similarity), made with the placeholder.
    phash: str | None = None
    # Derived data, not a user edit: adding one does not bump ``version``.
    renditions: tuple[RenditionInfo, ...] = ()

    @property
    def derived(self) -> bool:
        """Whether the worker made what is derived from the bytes: placeholder and hash."""
        return self.blurhash is not None and self.phash is not None

    @property
    def object_key(self) -> str:
        return object_key(self.image_id)

    @property
    def download_name(self) -> str:
        """The original name with the extension of the detected type (x.html -> x.jpg)."""
        stem, dot, _ = self.original_filename.rpartition(".")
        return (stem if dot and stem else self.original_filename) + EXTENSION_BY_CONTENT_TYPE.get(
            self.content_type, ""
        )

    def with_status(self, status: ImageStatus) -> Image:
        return replace(self, status=status)

    @property
    def taken_at(self) -> datetime | None:
        return self.exif.taken_at_utc if self.exif else None

    def rendition(self, size: int, fmt: str) -> RenditionInfo | None:
        return next((r for r in self.renditions if (r.size, r.format) == (size, fmt)), None)


def object_key(image_id: str) -> str:
    """Where the original bytes live. Renditions get their own prefixes later."""
    return f"{ORIGINALS_PREFIX}{image_id}"


def rendition_prefix(image_id: str) -> str:
    """Every rendition of an image lives under this prefix (deleted together)."""
    return f"{RENDITIONS_PREFIX}{image_id}/"


def rendition_key(image_id: str, size: int, fmt: str) -> str:
    return f"{rendition_prefix(image_id)}{size}.{fmt}"


def image_id_of_rendition_prefix(prefix: str) -> str:
    return prefix.removeprefix(RENDITIONS_PREFIX).rstrip("/")


# python-ulid reads its package metadata when imported (about 3 ms of a Lambda cold start) and
# only writes need an id, so the three functions below import it on first use.
def new_image_id(now: datetime) -> str:
    from ulid import ULID  # on first use: see above

    return str(ULID.from_datetime(now))


def image_id_time(image_id: str) -> datetime:
    """When the image id was made (its ULID timestamp, to the millisecond, UTC)."""
    from ulid import ULID  # on first use: see above

    return ULID.from_str(image_id).datetime


def is_image_id(value: str) -> bool:
    return bool(IMAGE_ID_PATTERN.fullmatch(value))


def id_time_bounds(start: datetime | None, end: datetime | None) -> tuple[str, str]:
    """The smallest and largest image id created within ``[start, end]`` (inclusive)."""
    low = "0" * 26 if start is None else _id_at(start, fill="0")
    high = "7" + "Z" * 25 if end is None else _id_at(end, fill="Z")
    return low, high


def _id_at(moment: datetime, fill: str) -> str:
    from ulid import ULID  # on first use: see above

    millis = max(0, int(moment.timestamp() * 1000))
    timestamp_part = str(ULID.from_timestamp(millis / 1000))[:10]
    return timestamp_part + fill * 16


def utc_now() -> datetime:
    return datetime.now(UTC)


class Caller(msgspec.Struct, frozen=True):
    """Who is asking. ``user_id`` is None for an anonymous caller. ``unrestricted`` is the
    unauthenticated contract (``AUTH_MODE=none``): the client names the user and may do
    anything, as before sign-in existed."""

    user_id: str | None
    groups: frozenset[str] = frozenset()
    unrestricted: bool = False

    @property
    def signed_in(self) -> bool:
        """Whether the caller may act as a user: signed in, or naming users freely."""
        return self.unrestricted or self.user_id is not None


class Tokens(msgspec.Struct, frozen=True):
    """What the identity provider answers a sign-in with; ``expires_in`` in seconds (that of
    the access and ID tokens). ``refresh_token``, when the provider issues one, is what
    ``CredentialExchange.revoke`` takes at sign-out."""

    access_token: str
    id_token: str
    expires_in: int
    refresh_token: str | None = None

    def __repr__(self) -> str:  # the tokens are credentials: never in a log line
        return f"Tokens(expires_in={self.expires_in})"


class NewImage(msgspec.Struct, frozen=True):
    """An upload as the client described it, already validated and normalised. ``user_id`` is
    the owner the client named, if it named one."""

    user_id: str | None
    original_filename: str
    declared_content_type: str | None
    description: str = ""
    tags: tuple[str, ...] = ()
    metadata: dict[str, MetadataValue] = msgspec.field(default_factory=dict)


class ImageChanges(msgspec.Struct, frozen=True):
    """A PATCH: ``None`` means leave the field as it is."""

    description: str | None = None
    tags: tuple[str, ...] | None = None
    metadata: dict[str, MetadataValue] | None = None


class ImageQuery(msgspec.Struct, frozen=True):
    """Filters of a listing. All given filters must match (tags: all of them)."""

    user_id: str | None = None
    tags: tuple[str, ...] = ()
    content_type: str | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None
    # Capture time (EXIF); only images that record one are found.
    taken_from: datetime | None = None
    taken_to: datetime | None = None
    limit: int = DEFAULT_PAGE_SIZE

    @property
    def by_capture_time(self) -> bool:
        return self.taken_from is not None or self.taken_to is not None

    def fingerprint(self) -> list[Any]:
        """What a cursor is bound to: the same filters, whatever the page size."""
        return [
            self.user_id,
            sorted(self.tags),
            self.content_type,
            self.date_from.isoformat() if self.date_from else None,
            self.date_to.isoformat() if self.date_to else None,
        ] + (
            [
                self.taken_from.isoformat() if self.taken_from else None,
                self.taken_to.isoformat() if self.taken_to else None,
            ]
            if self.by_capture_time
            else []
        )


class Page(msgspec.Struct, frozen=True):
    """One page of a listing and where the next one starts (None: the last page)."""

    items: list[Image]
    next_position: dict[str, str] | None
