"""Upload sessions and the value types around them: the client sends the bytes to S3 itself,
the service signs the request and then checks what arrived. Plain data: no I/O."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import msgspec
from msgspec.structs import replace

from service.domain.rules import MetadataValue

# Where the bytes of an open session land, before they are checked and moved to originals/.
INCOMING_PREFIX = "incoming/"
MIB = 1024 * 1024
MIN_PART_SIZE = 8 * MIB
MAX_PART_SIZE = 64 * MIB
# S3 allows 10 000 parts; fewer parts keep the signed URL list short: 5 GB / 64 MiB = 80.
TARGET_PARTS = 80
# The header the content type, dimensions and frame count are read from.
HEADER_BYTES = 64 * 1024


class SessionStatus(StrEnum):
    OPEN = "OPEN"  # waiting for the bytes
    PROCESSING = "PROCESSING"  # completed: a job checks and publishes it (image_id chosen)
    READY = "READY"  # published: image_id names the image (or the one it duplicates)
    FAILED = "FAILED"  # refused or not processable: ``failure`` says why; the bytes are gone

    @property
    def finished(self) -> bool:
        return self in (SessionStatus.READY, SessionStatus.FAILED)


class NewUpload(msgspec.Struct, frozen=True):
    """``POST /uploads`` as the client described it, validated and normalised."""

    user_id: str | None
    filename: str
    content_type: str
    size: int
    sha256: str | None = None
    description: str = ""
    tags: tuple[str, ...] = ()
    metadata: dict[str, MetadataValue] = msgspec.field(default_factory=dict)


class UploadSession(msgspec.Struct, frozen=True):
    """A direct-to-S3 upload in progress (POST /uploads), as stored."""

    upload_id: str
    user_id: str
    filename: str
    content_type: str
    size: int
    created_at: datetime
    expires_at: datetime
    sha256: str | None = None
    description: str = ""
    tags: tuple[str, ...] = ()
    metadata: dict[str, MetadataValue] = msgspec.field(default_factory=dict)
    multipart_id: str | None = None  # S3's UploadId; None for a presigned POST
    part_size: int = 0
    status: SessionStatus = SessionStatus.OPEN
    image_id: str | None = None
    duplicate: bool = False
    # The parts' ETags the client gave at complete; the job completes the multipart upload.
    parts: tuple[tuple[int, str], ...] = ()
    failure: str | None = None

    @property
    def object_key(self) -> str:
        return f"{INCOMING_PREFIX}{self.upload_id}"

    @property
    def scrubbed_key(self) -> str:
        """Where a multipart upload is rewritten without its location, before it is copied
        to originals/ like any other."""
        return f"{INCOMING_PREFIX}{self.upload_id}.without-location"

    @property
    def part_count(self) -> int:
        return -(-self.size // self.part_size) if self.multipart_id else 0

    def part_length(self, number: int) -> int:
        """The exact size of part ``number`` (1 to part_count): part_size, but the last part,
        which holds the rest."""
        return min(self.part_size, self.size - (number - 1) * self.part_size)

    def with_status(self, status: SessionStatus, **changes: object) -> UploadSession:
        return replace(self, status=status, **changes)


def part_size_for(size: int) -> int:
    """8 to 64 MiB, whole MiB, so that the largest upload takes about TARGET_PARTS parts."""
    wanted = -(-size // TARGET_PARTS)
    wanted = -(-wanted // MIB) * MIB
    return max(MIN_PART_SIZE, min(MAX_PART_SIZE, wanted))


class ObjectVersion(msgspec.Struct, frozen=True):
    """What the store holds under an upload's key: its size, and the ETag of that version of
    it, which every later read and copy of the object is held to."""

    size: int
    etag: str


class PresignedPost(msgspec.Struct, frozen=True):
    """Where and with which form fields a browser POSTs a file straight to S3."""

    url: str
    fields: dict[str, str]


class UploadedPart(msgspec.Struct, frozen=True):
    """One part of a multipart upload, as S3 reports it."""

    number: int
    etag: str
    size: int


class SignedPart(msgspec.Struct, frozen=True):
    """Where to PUT one part of a multipart upload."""

    part_number: int
    url: str


def signed_parts(urls: dict[int, str]) -> list[SignedPart]:
    return [SignedPart(number, url) for number, url in sorted(urls.items())]


class Ticket(msgspec.Struct, frozen=True):
    """What ``POST /uploads`` answers: where and how to send the bytes."""

    session: UploadSession
    post: PresignedPost | None = None
    part_urls: dict[int, str] = msgspec.field(default_factory=dict)

    @property
    def method(self) -> str:
        """POST: one form upload; PUT: each part to its URL."""
        return "POST" if self.post is not None else "PUT"

    @property
    def parts(self) -> list[SignedPart] | None:
        return None if self.post is not None else signed_parts(self.part_urls)

    @property
    def part_size(self) -> int | None:
        return None if self.post is not None else self.session.part_size


class SessionProgress(msgspec.Struct, frozen=True):
    """A session and the parts S3 already holds, for a client resuming an upload."""

    session: UploadSession
    parts: list[UploadedPart]

    @property
    def missing_parts(self) -> list[int]:
        """The parts still to send; none once the session is completed (S3 then holds one
        object, no parts)."""
        if self.session.status is not SessionStatus.OPEN:
            return []
        received = {part.number for part in self.parts}
        return [n for n in range(1, self.session.part_count + 1) if n not in received]
