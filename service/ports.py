"""What the application service needs from the outside world, as Protocols.

Adapters (S3, DynamoDB, Pillow) and the in-memory fakes used by unit tests both satisfy these;
the contract tests in ``tests/contract`` hold them to the same behaviour.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import BinaryIO, Protocol

from service.model import (
    Caller,
    Image,
    ImageInfo,
    ImageQuery,
    Page,
    Placeholder,
    Rendition,
    RenditionInfo,
)


class ImageStore(Protocol):
    """Holds image bytes under keys the service generates."""

    def put(self, key: str, body: BinaryIO, *, content_type: str, sha256: str) -> None: ...

    def delete(self, key: str) -> None:
        """Idempotent: deleting a missing key is not an error."""
        ...

    def read(self, key: str) -> bytes:
        """The stored bytes; StorageUnavailable if they cannot be read."""
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

    def add_pending(self, image: Image) -> None:
        """Record a new image as PENDING. Fails with ImageConflict if the id exists."""
        ...

    def publish(self, image: Image) -> Image:
        """PENDING -> READY and visible in every listing it belongs to, atomically."""
        ...

    def abandon(self, image: Image) -> Image:
        """PENDING -> DELETING, so that a publish still in flight fails; ImageConflict if the
        image is no longer PENDING (it was published meanwhile)."""
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
        """READY -> DELETING and out of every listing, atomically; ImageConflict unless the
        stored image is still ``image`` (READY, same version, same owner)."""
        ...

    def remove(self, image_id: str) -> None:
        """Forget the image (idempotent)."""
        ...

    def search(self, query: ImageQuery, position: dict[str, str] | None) -> Page:
        """Newest first, ``query.limit`` at most, READY only."""
        ...

    def unfinished(self, older_than: datetime) -> Iterable[Image]:
        """PENDING images created before ``older_than`` and every DELETING image."""
        ...

    def add_rendition(self, image_id: str, rendition: RenditionInfo) -> None:
        """Record a stored rendition on a READY image, once however often it is called (the
        version does not change: renditions are derived data); ImageConflict if not READY."""
        ...

    def check(self) -> None: ...


class ImageProcessor(Protocol):
    """Reads image bytes: identifies the format and enforces pixel and frame caps."""

    def inspect(self, body: BinaryIO) -> ImageInfo: ...

    def render(self, body: BinaryIO, longest_side: int, fmt: str) -> Rendition:
        """A re-encoded copy no larger than ``longest_side`` on either side, upright, in sRGB,
        without metadata, in ``fmt`` (jpeg, webp, avif). The same input gives the same bytes."""
        ...

    def placeholder(self, rendition: bytes) -> Placeholder:
        """BlurHash and dominant colour of a (small) rendition."""
        ...

    def without_gps(self, data: bytes) -> bytes | None:
        """``data`` without GPS, the image data untouched; None when there is none to remove."""
        ...


class TokenVerifier(Protocol):
    """Turns a bearer token into the caller it names; InvalidToken if it cannot be trusted."""

    def verify(self, token: str) -> Caller: ...
