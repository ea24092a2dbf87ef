"""What the API answers, as dataclasses. ``raw`` keeps each answer's JSON as sent (for --json)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Json = dict[str, Any]
UploadRoute = Literal["direct", "session", "multipart"]


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


@dataclass(frozen=True)
class Rendition:
    size: int
    format: str
    width: int
    height: int


@dataclass(frozen=True)
class Image:
    image_id: str
    user_id: str
    description: str
    tags: list[str]
    metadata: Json
    content_type: str
    size_bytes: int
    width: int
    height: int
    sha256: str
    original_filename: str
    status: str
    created_at: datetime | None
    updated_at: datetime | None
    version: int | None = None
    exif: Json | None = None
    location: Json | None = None
    blurhash: str | None = None
    dominant_color: str | None = None
    renditions: list[Rendition] = field(default_factory=list)
    duplicate_of: str | None = None
    etag: str | None = None
    raw: Json = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, body: Json, etag: str | None = None) -> Image:
        return cls(
            image_id=body["image_id"],
            user_id=body.get("user_id", ""),
            description=body.get("description", ""),
            tags=list(body.get("tags", [])),
            metadata=dict(body.get("metadata") or {}),
            content_type=body.get("content_type", ""),
            size_bytes=int(body.get("size_bytes", 0)),
            width=int(body.get("width", 0)),
            height=int(body.get("height", 0)),
            sha256=body.get("sha256", ""),
            original_filename=body.get("original_filename", ""),
            status=body.get("status", ""),
            created_at=_time(body.get("created_at")),
            updated_at=_time(body.get("updated_at")),
            version=body.get("version"),
            exif=body.get("exif"),
            location=body.get("location"),
            blurhash=body.get("blurhash"),
            dominant_color=body.get("dominant_color"),
            renditions=[Rendition(**r) for r in body.get("renditions") or []],
            duplicate_of=body.get("duplicate_of"),
            etag=etag,
            raw=body,
        )


@dataclass(frozen=True)
class ImagePage:
    items: list[Image]
    next_cursor: str | None


@dataclass(frozen=True)
class SimilarImage:
    """One of ``GET /images/{id}/similar``'s answers: an image of the caller's that looks like
    the one asked about, and how many bits of their perceptual hashes differ (0 to 3)."""

    distance: int
    image: Image

    @classmethod
    def from_json(cls, body: Json) -> SimilarImage:
        return cls(distance=int(body["distance"]), image=Image.from_json(body["image"]))


@dataclass(frozen=True)
class BatchResult:
    image_id: str
    result: str  # ok, not_found, forbidden, conflict, invalid, unavailable
    message: str | None = None

    @property
    def ok(self) -> bool:
        return self.result == "ok"


@dataclass(frozen=True)
class DownloadLink:
    download_url: str
    expires_in: int


@dataclass(frozen=True)
class RenditionLink:
    url: str
    expires_in: int
    width: int
    height: int
    format: str


@dataclass(frozen=True)
class Health:
    status: str
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class UploadTicket:
    """``POST /uploads``'s answer: a form to POST to ``url``, or part URLs to PUT."""

    upload_id: str
    method: Literal["POST", "PUT"]
    expires_at: datetime | None
    url: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    part_size: int | None = None
    part_urls: dict[int, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, body: Json) -> UploadTicket:
        return cls(
            upload_id=body["upload_id"],
            method="PUT" if body.get("method") == "PUT" else "POST",
            expires_at=_time(body.get("expires_at")),
            url=body.get("url"),
            fields={str(k): str(v) for k, v in (body.get("fields") or {}).items()},
            part_size=body.get("part_size"),
            part_urls={int(p["part_number"]): p["url"] for p in body.get("parts") or []},
        )


@dataclass(frozen=True)
class ReceivedPart:
    part_number: int
    etag: str
    size: int


# An upload session's statuses: OPEN (waiting for the bytes), PROCESSING (completed: the
# service's worker checks and publishes them), then READY (published) or FAILED (refused: the
# bytes are gone, a new upload must start).
OPEN, PROCESSING, READY, FAILED = "OPEN", "PROCESSING", "READY", "FAILED"
FINISHED = frozenset({READY, FAILED})


@dataclass(frozen=True)
class UploadStatus:
    """``GET /uploads/{id}`` (and ``complete``'s answer): the session, the parts S3 already
    holds, and once it is finished its outcome. READY: ``image_id`` names the image, the
    caller's existing image of the same bytes when ``duplicate``. FAILED: ``failure`` says why.
    ``retry_after``: the seconds the service asked to wait before asking again (PROCESSING)."""

    upload_id: str
    status: str  # OPEN, PROCESSING, READY, FAILED
    size: int
    content_type: str
    part_size: int | None
    part_count: int
    parts: list[ReceivedPart]
    missing_parts: list[int]
    image_id: str | None
    expires_at: datetime | None = None
    duplicate: bool = False
    failure: str | None = None
    retry_after: float | None = None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @classmethod
    def from_json(cls, body: Json, retry_after: float | None = None) -> UploadStatus:
        return cls(
            upload_id=body["upload_id"],
            status=body["status"],
            size=int(body.get("size") or 0),
            content_type=body.get("content_type") or "",
            part_size=body.get("part_size"),
            part_count=int(body.get("part_count") or 0),
            parts=[ReceivedPart(**p) for p in body.get("parts") or []],
            missing_parts=list(body.get("missing_parts") or []),
            image_id=body.get("image_id"),
            expires_at=_time(body.get("expires_at")),
            duplicate=bool(body.get("duplicate")),
            failure=body.get("failure"),
            retry_after=retry_after,
        )


@dataclass(frozen=True)
class UploadResult:
    """What an upload made: a new image, or (``duplicate``) the caller's image of the same
    bytes. ``sent_bytes`` is 0 when nothing had to be sent."""

    image: Image
    duplicate: bool
    route: UploadRoute
    sent_bytes: int
    resumed: bool = False
