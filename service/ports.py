"""What the application service needs from the outside world, as Protocols.

Adapters (S3, DynamoDB, Pillow) and the in-memory fakes used by unit tests both satisfy these;
the contract tests in ``tests/contract`` hold them to the same behaviour.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import BinaryIO, Protocol

from service.domain.idempotency_keys import StoredResponse
from service.domain.jobs import Job
from service.domain.model import (
    Caller,
    Image,
    ImageInfo,
    ImageQuery,
    Page,
    Placeholder,
    Rendition,
    RenditionInfo,
    Tokens,
)
from service.domain.scrub import Piece, Scrubbed
from service.domain.sessions import ObjectVersion, PresignedPost, UploadedPart, UploadSession


class Readable(Protocol):
    """A stream of bytes read front to back: a file, or an object streamed from the store."""

    def read(self, size: int, /) -> bytes: ...


class ImageStore(Protocol):
    """Holds image bytes under keys the service generates."""

    def put(self, key: str, body: BinaryIO, *, content_type: str, sha256: str) -> None: ...

    def delete(self, key: str) -> None:
        """Idempotent: deleting a missing key is not an error."""
        ...

    def read(self, key: str) -> bytes:
        """The stored bytes; StorageUnavailable if they cannot be read."""
        ...

    def keys_between(self, low: str, high: str) -> Iterable[str]:
        """The stored keys ``k`` with ``low <= k <= high``, in ascending order."""
        ...

    def download_url(
        self, key: str, *, filename: str, content_type: str, expires_in: int
    ) -> str: ...

    def check(self) -> None:
        """Raise StorageUnavailable when the store does not answer."""
        ...

    def put_once(self, key: str, data: bytes, *, content_type: str) -> bool:
        """Store ``data`` at ``key`` unless something is there already: True if this call
        stored it, False if another writer had (its bytes are kept)."""
        ...

    def object_url(self, key: str, *, expires_in: int) -> str:
        """A presigned GET of ``key``, shown inline with the content type it was stored with."""
        ...

    def delete_prefix(self, prefix: str) -> int:
        """Delete every key under ``prefix``; how many there were. Idempotent."""
        ...

    def prefixes(self, prefix: str, *, start_after: str, limit: int) -> list[str]:
        """Up to ``limit`` "folders" directly under ``prefix`` (ending in ``/``), in key order,
        after ``start_after``."""
        ...


class ImageRepository(Protocol):
    """Holds metadata; listings only ever show READY images."""

    def publish(self, image: Image, *, claim: bool = False) -> Image:
        """Record a new image READY and visible in every listing it belongs to, atomically.
        Fails with ImageConflict if the id exists (e.g. marked by ``tombstone``). With
        ``claim``, the same write claims the owner's bytes (user, SHA-256), on the condition
        that no READY image of the owner holds them: DuplicateImage (naming that image)
        otherwise, and nothing is published."""
        ...

    def claim_of(self, user_id: str, sha256: str) -> str | None:
        """The id of the user's READY image that claimed these bytes, if one did."""
        ...

    def release_claim(self, user_id: str, sha256: str, image_id: str) -> None:
        """Remove the claim if it still names ``image_id`` (idempotent)."""
        ...

    def tombstone(self, image_id: str) -> Image:
        """Record an upload that never published (no item) as a DELETING
        tombstone, so that a publish still in flight fails; ImageConflict if the image exists
        otherwise (it was published meanwhile). Returns the tombstone, which ``unfinished``
        does not list: it stays until ``forget_tombstones``."""
        ...

    def forget_tombstones(self, older_than: datetime) -> int:
        """Remove the tombstones on ids created before ``older_than``; how many."""
        ...

    def get(self, image_id: str) -> Image | None:
        """The image in whatever status it is, or None."""
        ...

    def get_many(self, image_ids: Sequence[str]) -> list[Image]:
        """Those of ``image_ids`` that exist, in whatever status, in any order."""
        ...

    def replace(self, old: Image, new: Image) -> Image:
        """Store ``new`` (same id) and re-index it, atomically; ImageConflict unless the stored
        image is still ``old``: READY, the same version and the same owner."""
        ...

    def hide(self, image: Image) -> Image:
        """READY -> DELETING and out of every listing, atomically, releasing its claim on its
        bytes if it holds one; ImageConflict unless the stored image is still ``image`` (READY,
        same version, same owner)."""
        ...

    def remove(self, image_id: str) -> None:
        """Forget the image (idempotent)."""
        ...

    def search(self, query: ImageQuery, position: dict[str, str] | None) -> Page:
        """Newest first, ``query.limit`` at most, READY only."""
        ...

    def unfinished(self) -> Iterable[Image]:
        """Every DELETING image but tombstones: deletes that were interrupted."""
        ...

    def add_rendition(
        self,
        image_id: str,
        rendition: RenditionInfo,
        *,
        placeholder: Placeholder | None = None,
        phash: str | None = None,
    ) -> None:
        """Record a stored rendition (and the image's ``placeholder`` and perceptual hash,
        when given) on a READY image and in its listings, once however often it is called
        (the version does not change: they are derived data); ImageConflict if not READY."""
        ...

    def similar(self, user_id: str, phash: str) -> list[tuple[str, int]]:
        """The ids of ``user_id``'s images whose hash is within MAX_DISTANCE of ``phash``
        (service.domain.similarity), with their distance: nearest first, then newest. Hidden
        images are not among them."""
        ...

    def check(self) -> None: ...


class ImageProcessor(Protocol):
    """Reads image bytes: identifies the format and enforces the pixel, frame and decoding
    caps. Every refusal is made from the header, before any pixel is decoded."""

    def inspect(self, body: BinaryIO, *, accepted: Collection[str]) -> ImageInfo:
        """What the bytes are, once they have been decoded in full. UnsupportedImage if their
        content type is not among ``accepted``; ImageTooLarge over a cap; InvalidImage if they
        are not a readable image; DecoderBusy if no decode could start in time."""
        ...

    def inspect_header(self, header: BinaryIO) -> ImageInfo:
        """Format, dimensions and frames (as far as the header shows) from the first bytes of
        a file, without decoding pixels; the same pixel and frame caps as ``inspect``."""
        ...

    def render(self, body: BinaryIO, longest_side: int, fmt: str) -> Rendition:
        """A re-encoded copy no larger than ``longest_side`` on either side, upright, in sRGB,
        without metadata, in ``fmt`` (jpeg, webp, avif). The same input gives the same bytes."""
        ...

    def placeholder(self, rendition: bytes) -> Placeholder:
        """BlurHash and dominant colour of a (small) rendition."""
        ...

    def perceptual_hash(self, rendition: bytes) -> str:
        """The 64-bit perceptual hash of a (small) rendition, as 16 lowercase hex digits."""
        ...

    def without_location(self, body: Readable) -> Scrubbed:
        """How to store the upload read from ``body`` (read once, to its end) without any
        location it carries, the image data as it is (``removed`` empty: it has none).
        LocationNotRemovable where that cannot be done; InvalidImage where its structure is
        broken."""
        ...

    def formats(self) -> tuple[str, ...]:
        """The rendition formats ``render`` can encode (jpeg always; webp and avif when the
        codecs are there)."""
        ...


class IdempotencyStore(Protocol):
    """Records of ``Idempotency-Key`` requests, each kept for a day (see
    service/domain/idempotency_keys.py).
    Every write is conditional, so of two requests with one key exactly one runs."""

    def begin(self, owner: str, key: str, request_hash: str) -> StoredResponse | None:
        """Claim the key for a request: None when it is this request's to run. The first
        answer when it ran before with the same ``request_hash``; IdempotencyKeyReused when it
        ran with another; RequestInProgress while the first request still runs."""
        ...

    def complete(self, owner: str, key: str, request_hash: str, response: StoredResponse) -> None:
        """Keep the answer of the request that ``begin`` let run."""
        ...

    def release(self, owner: str, key: str) -> None:
        """Forget the claim of a request that failed, so that a retry runs again."""
        ...


class TokenVerifier(Protocol):
    """Turns a bearer token into the caller it names; InvalidToken if it cannot be trusted."""

    def verify(self, token: str) -> Caller: ...


class CredentialExchange(Protocol):
    """Trades a user name and password for tokens with the identity provider (Cognito's
    USER_PASSWORD_AUTH). SignInFailed when it does not accept them."""

    def sign_in(self, username: str, password: str) -> Tokens: ...

    def revoke(self, refresh_token: str) -> None:
        """Ends the sign-in that issued ``refresh_token`` (Cognito's RevokeToken): the refresh
        token gets no new tokens any more. StorageUnavailable when the provider cannot be
        asked."""
        ...


class UploadStore(Protocol):
    """The bytes of upload sessions, sent by the client straight to the store.

    Every read and copy of an arrived object names the version it means (``etag``, from
    ``version_of``): UploadChanged when the object is no longer that version, so that what is
    checked is what is stored."""

    def presigned_post(
        self, key: str, *, size: int, content_type: str, expires_in: int
    ) -> PresignedPost:
        """A form upload whose policy fixes the key, the exact size and the content type."""
        ...

    def start_multipart(self, key: str, *, content_type: str) -> str:
        """A multipart upload's id."""
        ...

    def part_urls(
        self, key: str, multipart_id: str, sizes: Mapping[int, int], expires_in: int
    ) -> dict[int, str]:
        """A URL for each part number of ``sizes`` that takes a part of exactly that many
        bytes, and no other."""
        ...

    def list_parts(self, key: str, multipart_id: str) -> list[UploadedPart]:
        """The parts received so far; empty once the upload is completed or aborted."""
        ...

    def complete_multipart(
        self, key: str, multipart_id: str, parts: Sequence[tuple[int, str]]
    ) -> None:
        """Assemble the parts; a no-op when the object is already assembled. InvalidInput
        when a part is missing or an ETag does not match."""
        ...

    def abort_multipart(self, key: str, multipart_id: str) -> None:
        """Idempotent."""
        ...

    def version_of(self, key: str) -> ObjectVersion | None:
        """The object's size and ETag; None when there is none."""
        ...

    def read(self, key: str, *, etag: str) -> bytes:
        """The whole object (uploads small enough to hold in memory)."""
        ...

    def read_header(self, key: str, length: int, *, etag: str) -> bytes:
        """The first ``length`` bytes (fewer when the object is smaller)."""
        ...

    def stream(self, key: str, *, etag: str) -> AbstractContextManager[Readable]:
        """The object, read front to back (uploads too large to hold in memory)."""
        ...

    def sha256_of(self, key: str, *, etag: str) -> str:
        """The hex SHA-256 of the object, streamed."""
        ...

    def compose(
        self,
        source: str,
        destination: str,
        pieces: Sequence[Piece],
        *,
        content_type: str,
        etag: str,
    ) -> str:
        """Write ``destination`` from ``pieces`` of ``source`` (version ``etag``): its kept
        byte ranges, copied by the store itself where it can, and new bytes. The ETag of what
        was written."""
        ...

    def copy(
        self, source: str, destination: str, *, content_type: str, sha256: str, etag: str
    ) -> None: ...

    def delete(self, key: str) -> None:
        """Idempotent."""
        ...


class JobQueue(Protocol):
    """Where jobs for the worker go (service.domain.jobs)."""

    def send(self, job: Job) -> None:
        """At least once: the worker may get a job more than once."""
        ...


class UploadSessionRepository(Protocol):
    """Upload sessions' state; every transition is conditional on the state read."""

    def add(self, session: UploadSession) -> None: ...

    def get(self, upload_id: str) -> UploadSession | None: ...

    def transition(self, old: UploadSession, new: UploadSession) -> UploadSession:
        """Store ``new`` if the stored session is still in ``old``'s status (and image id);
        ImageConflict otherwise."""
        ...

    def remove(self, upload_id: str) -> None:
        """Idempotent."""
        ...

    def expired(self, before: datetime) -> Iterable[UploadSession]:
        """Sessions not READY whose ``expires_at`` is before ``before``."""
        ...
