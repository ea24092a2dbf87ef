"""What the application service needs from the outside world, as Protocols.

Adapters (S3, DynamoDB, Pillow) and the in-memory fakes used by unit tests both satisfy these;
the contract tests in ``tests/contract`` hold them to the same behaviour.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import BinaryIO, Protocol

from service.model import Caller, Image, ImageInfo, ImageQuery, Page, Rendition


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

    def check(self) -> None: ...


class ImageProcessor(Protocol):
    """Reads image bytes: identifies the format and enforces the pixel, frame and decoding
    caps. Every refusal is made from the header, before any pixel is decoded."""

    def inspect(self, body: BinaryIO, *, accepted: Collection[str]) -> ImageInfo:
        """What the bytes are, once they have been decoded in full. UnsupportedImage if their
        content type is not among ``accepted``; ImageTooLarge over a cap; InvalidImage if they
        are not a readable image; DecoderBusy if no decode could start in time."""
        ...

    def thumbnail(self, body: BinaryIO, longest_side: int) -> Rendition:
        """A re-encoded copy no larger than ``longest_side`` on either side, upright."""
        ...


class TokenVerifier(Protocol):
    """Turns a bearer token into the caller it names; InvalidToken if it cannot be trusted."""

    def verify(self, token: str) -> Caller: ...
