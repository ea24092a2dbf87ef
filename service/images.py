"""ImageService: the use cases. Talks to ports only; knows nothing of HTTP, boto3 or Pillow.

Consistency without a shared transaction between S3 and DynamoDB:

* upload: metadata PENDING (invisible) -> bytes to S3 -> READY + listing entries in one
  DynamoDB transaction. A failure on the way undoes what it can; a crash leaves a PENDING item
  that ``sweep`` removes with its object once it is older than the grace period.
* delete: READY -> DELETING with the listing entries removed in one transaction (hidden) ->
  object deleted -> item deleted. A crash leaves a DELETING item that ``sweep`` finishes.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import BinaryIO

from service import rules
from service.cursors import CursorCodec
from service.errors import (
    ImageConflict,
    ImageNotFound,
    ImageTooLarge,
    InvalidImage,
    InvalidInput,
    MalformedImageId,
    UnsupportedImage,
)
from service.model import (
    Image,
    ImageChanges,
    ImageQuery,
    ImageStatus,
    NewImage,
    Rendition,
    is_image_id,
    new_image_id,
    utc_now,
)
from service.ports import ImageProcessor, ImageRepository, ImageStore

log = logging.getLogger(__name__)

_HASH_CHUNK = 1024 * 1024
DELETE_ATTEMPTS = 3


@dataclass(frozen=True)
class Limits:
    max_file_size: int
    allowed_content_types: tuple[str, ...]
    download_url_ttl: int = 900
    sweep_grace_seconds: int = 900


@dataclass(frozen=True)
class ListResult:
    items: list[Image]
    next_cursor: str | None


@dataclass(frozen=True)
class DownloadLink:
    url: str
    expires_in: int


@dataclass(frozen=True)
class SweepReport:
    removed_pending: int
    finished_deletes: int


class ImageService:
    def __init__(
        self,
        *,
        store: ImageStore,
        repository: ImageRepository,
        processor: ImageProcessor,
        cursors: CursorCodec,
        limits: Limits,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self._repository = repository
        self._processor = processor
        self._cursors = cursors
        self._limits = limits
        self._clock = clock

    def upload(self, new: NewImage, body: BinaryIO) -> Image:
        size = _size_of(body)
        if size == 0:
            raise InvalidImage("The file is empty")
        if size > self._limits.max_file_size:
            raise ImageTooLarge(
                f"The file is {size} bytes; the limit is {self._limits.max_file_size} bytes"
            )
        # A format that is not allowed is refused from the header, before it is decoded.
        info = self._processor.inspect(body, accepted=self._limits.allowed_content_types)
        declared = rules.content_type(new.declared_content_type)
        if declared is not None and declared != info.content_type:
            raise UnsupportedImage(
                f"The file was declared as {declared} but its content is {info.content_type}"
            )
        now = self._clock()
        image_id = new_image_id(now)
        image = Image(
            image_id=image_id,
            user_id=new.user_id,
            content_type=info.content_type,
            size_bytes=size,
            width=info.width,
            height=info.height,
            sha256=_sha256_of(body),
            original_filename=rules.filename(new.original_filename, fallback=image_id),
            created_at=now,
            updated_at=now,
            description=new.description,
            tags=new.tags,
            metadata=dict(new.metadata),
        )
        self._repository.add_pending(image)
        try:
            body.seek(0)
            self._store.put(
                image.object_key, body, content_type=image.content_type, sha256=image.sha256
            )
            return self._repository.publish(image)
        except Exception:
            self._discard_pending(image)
            raise

    def get(self, image_id: str) -> Image:
        if not is_image_id(image_id):
            raise MalformedImageId(image_id)
        image = self._repository.get(image_id)
        if image is None or image.status is not ImageStatus.READY:
            raise ImageNotFound(image_id)
        return image

    def search(self, query: ImageQuery, cursor: str | None = None) -> ListResult:
        if query.date_from and query.date_to and query.date_from > query.date_to:
            raise InvalidInput(
                "date_from is after date_to", {"date_from": ["must not be after date_to"]}
            )
        position = self._cursors.decode(query, cursor) if cursor else None
        page = self._repository.search(query, position)
        next_cursor = (
            self._cursors.encode(query, page.next_position) if page.next_position else None
        )
        return ListResult(items=page.items, next_cursor=next_cursor)

    def update(self, image_id: str, changes: ImageChanges) -> Image:
        current = self.get(image_id)
        updated = replace(
            current,
            description=current.description if changes.description is None else changes.description,
            tags=current.tags if changes.tags is None else changes.tags,
            metadata=current.metadata if changes.metadata is None else dict(changes.metadata),
            updated_at=self._clock(),
        )
        return self._repository.replace(current, updated)

    def delete(self, image_id: str) -> None:
        image = self.get(image_id)
        for attempt in range(DELETE_ATTEMPTS):
            try:
                hidden = self._repository.hide(image)
                break
            except ImageConflict:
                # Someone else wrote it meanwhile. A concurrent DELETE that won means it is
                # gone for this caller too (404, as if it came second); anything else: retry.
                image = self.get(image_id)
                if attempt == DELETE_ATTEMPTS - 1:
                    raise
        self._finish_delete(hidden)

    def download_link(self, image_id: str) -> DownloadLink:
        image = self.get(image_id)
        ttl = self._limits.download_url_ttl
        url = self._store.download_url(
            image.object_key,
            filename=image.original_filename,
            content_type=image.content_type,
            expires_in=ttl,
        )
        return DownloadLink(url=url, expires_in=ttl)

    def thumbnail(self, image_id: str, longest_side: int) -> Rendition:
        image = self.get(image_id)
        original = self._store.read(image.object_key)
        return self._processor.thumbnail(io.BytesIO(original), longest_side)

    def sweep(self, grace_seconds: int | None = None) -> SweepReport:
        """Remove leftovers of interrupted uploads and finish interrupted deletes."""
        grace = self._limits.sweep_grace_seconds if grace_seconds is None else grace_seconds
        cutoff = self._clock() - timedelta(seconds=grace)
        pending = finished = 0
        for image in self._repository.unfinished(older_than=cutoff):
            if image.status is ImageStatus.PENDING:
                try:
                    # Claim it first: an upload that is merely slow then fails to publish,
                    # instead of publishing an image whose bytes we are deleting.
                    self._repository.abandon(image)
                except ImageConflict:
                    continue  # published meanwhile: not a leftover
                pending += 1
            else:
                finished += 1
            self._finish_delete(image)
        return SweepReport(removed_pending=pending, finished_deletes=finished)

    def check_ready(self) -> None:
        self._store.check()
        self._repository.check()

    def _finish_delete(self, image: Image) -> None:
        self._store.delete(image.object_key)
        self._repository.remove(image.image_id)

    def _discard_pending(self, image: Image) -> None:
        """Best effort; whatever is left stays PENDING and invisible until ``sweep``."""
        try:
            self._finish_delete(image)
        except Exception:
            log.warning("could not discard pending image %s; sweep will", image.image_id)


def _size_of(body: BinaryIO) -> int:
    body.seek(0, 2)
    size = body.tell()
    body.seek(0)
    return size


def _sha256_of(body: BinaryIO) -> str:
    body.seek(0)
    digest = hashlib.sha256()
    while chunk := body.read(_HASH_CHUNK):
        digest.update(chunk)
    body.seek(0)
    return digest.hexdigest()
