"""ImageService: the use cases. Talks to ports only; knows nothing of HTTP, boto3 or Pillow.

Consistency without a shared transaction between S3 and DynamoDB:

* upload: bytes to S3 -> metadata READY + all its listing entries in one DynamoDB transaction
  that creates the item (it fails if the id exists). Until that transaction the image exists
  only as an object nothing lists. A failure on the way undoes what it can: it marks the id
  with a tombstone (which fails if the transaction did commit after all, and then the upload
  returns the image) and deletes the object. A crash leaves an object without metadata, which
  the sweeper (``sweeper.py``) removes. Upload sessions publish the same way, their bytes
  copied from ``incoming/`` first.
* delete: READY -> DELETING with the listing entries removed in one transaction (hidden) ->
  object and renditions deleted -> item deleted. A crash leaves a DELETING item that the
  sweeper finishes.
* renditions (``renditions.py``) are made on first request and stored once.

Duplicates (``dedupe``): a user's bytes (their SHA-256) make one READY image. The claim on
them is written in the publish transaction, conditional on its absence, so two uploads of the
same bytes racing each other still make one image; the one that loses discards what it stored
and answers the winner's image, marked as a duplicate. A cheap read of the claim first spares
storing the bytes of an obvious duplicate at all.

No lost updates: every image carries a ``version``; a change or delete is computed from the
version read and written on the condition that it is still the stored one (and still the
owner's), together with the listing entries it moves, so the entries always match the tags.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, BinaryIO, TypeVar

import msgspec
from msgspec.structs import replace

from service.domain import rules
from service.domain.access import AccessPolicy
from service.domain.cursors import CursorCodec
from service.domain.errors import (
    DuplicateImage,
    ImageConflict,
    ImageNotFound,
    ImageTooLarge,
    InvalidImage,
    MalformedImageId,
    NotAuthenticated,
    PreconditionFailed,
    UnsupportedImage,
)
from service.domain.model import (
    DEFAULT_RENDITION_SIZES,
    Caller,
    Image,
    ImageChanges,
    ImageInfo,
    ImageQuery,
    ImageStatus,
    NewImage,
    Placeholder,
    is_image_id,
    new_image_id,
    utc_now,
)
from service.domain.queries import check_query
from service.ports import ImageProcessor, ImageRepository, ImageStore
from service.usecases.batch import BatchAction, BatchResult, run_item
from service.usecases.renditions import RenditionLink, RenditionRef, Renditions
from service.usecases.sweeping import Sweeper, SweepReport

log = logging.getLogger(__name__)
_T = TypeVar("_T")

_HASH_CHUNK = 1024 * 1024
WRITE_ATTEMPTS = 3


class Limits(msgspec.Struct, frozen=True):
    """What the image service accepts and how long what it hands out lives."""

    max_file_size: int
    allowed_content_types: tuple[str, ...]
    download_url_ttl: int = 900
    sweep_grace_seconds: int = 900
    # How far back beyond the grace period ``sweep`` looks for objects of uploads that never
    # published: several runs of the 15-minute schedule, so a few missed runs lose nothing.
    orphan_window_seconds: int = 6 * 3600
    rendition_sizes: tuple[int, ...] = DEFAULT_RENDITION_SIZES
    rendition_formats: tuple[str, ...] = ("jpeg",)
    prerender: bool = False
    strip_gps: bool = True
    gps_precision: int = 2
    thumbnail_url_ttl: int = 900

    @property
    def smallest_rendition(self) -> int:
        return min(self.rendition_sizes)


class Published(msgspec.Struct, frozen=True):
    """What an upload made: a new image, or (``duplicate``) the user's image of the same
    bytes, which the upload left as it was."""

    image: Image
    duplicate: bool = False


class ListResult(msgspec.Struct, frozen=True):
    """One page of images and the cursor of the next one (None: the last page)."""

    items: list[Image]
    next_cursor: str | None


class DownloadLink(msgspec.Struct, frozen=True):
    """A presigned URL to an original and its lifetime in seconds."""

    url: str
    expires_in: int


class ImageService:
    def __init__(
        self,
        *,
        store: ImageStore,
        repository: ImageRepository,
        processor: ImageProcessor,
        cursors: CursorCodec,
        limits: Limits,
        access: AccessPolicy | None = None,
        clock: Callable[[], datetime] = utc_now,
        sweep_start: Callable[[], str] | None = None,
        dedupe: bool = False,
    ) -> None:
        self._dedupe = dedupe
        self._store = store
        self._repository = repository
        self._processor = processor
        self._cursors = cursors
        self._limits = limits
        self._access = access or AccessPolicy()
        self._clock = clock
        self._renditions = Renditions(
            store=store,
            repository=repository,
            processor=processor,
            limits=limits,
            access=self._access,
            ready=self._ready,
        )
        self._sweeper = Sweeper(
            store=store,
            repository=repository,
            grace_seconds=limits.sweep_grace_seconds,
            orphan_window_seconds=limits.orphan_window_seconds,
            clock=clock,
            sweep_start=sweep_start,
        )

    def upload(self, caller: Caller, new: NewImage, body: BinaryIO) -> Published:
        owner = self._access.owner_of_upload(caller, new.user_id)
        size = _size_of(body)
        if size == 0:
            raise InvalidImage("The file is empty")
        if size > self._limits.max_file_size:
            raise ImageTooLarge(
                f"The file is {size} bytes; the limit is {self._limits.max_file_size} bytes"
            )
        info, body = self.read_upload(body, new.declared_content_type)
        size = _size_of(body)
        smallest = self._renditions.render_smallest(body)
        now = self._clock()
        image_id = new_image_id(now)
        image = Image(
            image_id=image_id,
            user_id=owner,
            size_bytes=size,
            sha256=_sha256_of(body),
            original_filename=rules.filename(new.original_filename, fallback=image_id),
            created_at=now,
            updated_at=now,
            description=new.description,
            tags=new.tags,
            metadata=dict(new.metadata),
            **self.described(info),
        )
        if smallest is not None:
            placeholder = self._processor.placeholder(smallest.data)
            image = replace(
                image, blurhash=placeholder.blurhash, dominant_color=placeholder.dominant_color
            )

        published = self.publish_new(image, lambda image: self.put_original(image, body))
        if smallest is not None and self._limits.prerender and not published.duplicate:
            kept = self._renditions.keep(published.image, self._limits.smallest_rendition, smallest)
            return replace(published, image=kept)
        return published

    def read_upload(
        self, body: BinaryIO, declared_content_type: str | None
    ) -> tuple[ImageInfo, BinaryIO]:
        """What an upload's bytes are, checked (decoded within the limits, EXIF read), and the
        bytes to store: without GPS when ``strip_gps`` asks, so that the size and SHA-256 of
        the stored original describe what is stored."""
        # A format that is not allowed is refused from the header, before it is decoded.
        info = self._processor.inspect(body, accepted=self._limits.allowed_content_types)
        self.accept(info, declared_content_type)
        if self._limits.strip_gps and info.exif is not None and info.exif.gps_present:
            body.seek(0)
            stripped = self._processor.without_gps(body.read())
            if stripped is not None:
                return info, io.BytesIO(stripped)
        body.seek(0)
        return info, body

    def described(self, info: ImageInfo) -> dict[str, Any]:
        """The fields of an Image that its bytes give: sizes, EXIF and the rounded location."""
        width, height = info.displayed_size
        location = info.location.rounded(self._limits.gps_precision) if info.location else None
        return {
            "content_type": info.content_type,
            "width": width,
            "height": height,
            "pixel_width": info.width,
            "pixel_height": info.height,
            "exif": info.exif,
            "location": location,
        }

    def put_original(self, image: Image, body: BinaryIO) -> None:
        body.seek(0)
        self._store.put(
            image.object_key, body, content_type=image.content_type, sha256=image.sha256
        )

    def accept(self, info: ImageInfo, declared_content_type: str | None) -> None:
        """The checks on what the bytes are, shared by every way of uploading."""
        if info.content_type not in self._limits.allowed_content_types:
            allowed = ", ".join(self._limits.allowed_content_types)
            raise UnsupportedImage(f"{info.content_type} is not accepted; allowed: {allowed}")
        declared = rules.content_type(declared_content_type)
        if declared is not None and declared != info.content_type:
            raise UnsupportedImage(
                f"The file was declared as {declared} but its content is {info.content_type}"
            )

    def publish_new(self, image: Image, store: Callable[[Image], None]) -> Published:
        """``store`` the bytes of ``image`` under its object key, then publish it. A failure on
        the way undoes what it can; ``sweep`` removes what it could not. With ``dedupe``, the
        owner's READY image of the same bytes, if any, instead."""
        if self._dedupe:
            holder = self._repository.claim_of(image.user_id, image.sha256)
            existing = self._repository.get(holder) if holder else None
            if existing is not None and existing.status is ImageStatus.READY:
                return Published(existing, duplicate=True)
        store(image)
        try:
            try:
                return Published(self._repository.publish(image, claim=self._dedupe))
            except DuplicateImage as duplicate:
                existing = self._repository.get(duplicate.image_id)
                if existing is not None and existing.status is ImageStatus.READY:
                    # Refused for certain: nothing was published, the object alone is left.
                    self._delete_quietly(image)
                    return Published(existing, duplicate=True)
                # Claims change with their image's status, in one transaction: a claim whose
                # image is not READY is a leftover (the table changed by hand). Free it, once.
                log.warning("releasing claim of missing image %s", duplicate.image_id)
                self._repository.release_claim(image.user_id, image.sha256, duplicate.image_id)
                return Published(self._repository.publish(image, claim=self._dedupe))
        except Exception:
            published = self._discard_unpublished(image)
            if published is None:
                raise
            return Published(published)

    def placeholder_for(self, body: BinaryIO) -> Placeholder | None:
        """See ``Renditions.placeholder_for``."""
        return self._renditions.placeholder_for(body)

    def get(self, caller: Caller, image_id: str) -> Image:
        self._access.check_read(caller)
        return self._ready(image_id)

    def find(self, image_id: str) -> Image | None:
        """The image in whatever status, for the upload sessions that made it; no caller."""
        return self._repository.get(image_id)

    @property
    def rendition_sizes(self) -> tuple[int, ...]:
        return self._limits.rendition_sizes

    def may_change(self, caller: Caller, image: Image) -> bool:
        """Whether ``caller`` may edit or delete ``image`` (to offer it, not to allow it)."""
        return self._access.may_write(caller, image)

    def sees_location(self, caller: Caller, image: Image) -> bool:
        """Whether ``caller`` may see where ``image`` was taken (its owner only)."""
        return self._access.may_see_location(caller, image)

    def get_many(self, caller: Caller, image_ids: Sequence[str]) -> list[Image]:
        """The READY images among ``image_ids``, in the order asked, each once."""
        self._access.check_read(caller)
        wanted = [image_id for image_id in dict.fromkeys(image_ids) if is_image_id(image_id)]
        found = {image.image_id: image for image in self._repository.get_many(wanted)}
        return [found[i] for i in wanted if i in found and found[i].status is ImageStatus.READY]

    def search(self, caller: Caller, query: ImageQuery, cursor: str | None = None) -> ListResult:
        self._access.check_read(caller)
        check_query(query)
        position = self._cursors.decode(query, cursor) if cursor else None
        page = self._repository.search(query, position)
        next_cursor = (
            self._cursors.encode(query, page.next_position) if page.next_position else None
        )
        return ListResult(items=page.items, next_cursor=next_cursor)

    def update(
        self,
        caller: Caller,
        image_id: str,
        changes: ImageChanges | Callable[[Image], ImageChanges],
        expected_version: int | None = None,
    ) -> Image:
        """Apply ``changes`` (or what ``changes(current)`` computes) to the current version."""

        def write(current: Image) -> Image:
            wanted = changes(current) if callable(changes) else changes
            updated = replace(
                current,
                description=_or(wanted.description, current.description),
                tags=_or(wanted.tags, current.tags),
                metadata=dict(_or(wanted.metadata, current.metadata)),
                updated_at=self._clock(),
                version=current.version + 1,
            )
            return self._repository.replace(current, updated)

        return self._write(caller, image_id, expected_version, write)

    def delete(self, caller: Caller, image_id: str, expected_version: int | None = None) -> None:
        hidden = self._write(
            caller, image_id, expected_version, lambda current: self._repository.hide(current)
        )
        self._sweeper.finish_delete(hidden)

    def download_link(self, caller: Caller, image_id: str) -> DownloadLink:
        image = self.get(caller, image_id)
        ttl = self._limits.download_url_ttl
        url = self._store.download_url(
            image.object_key,
            filename=image.download_name,
            content_type=image.content_type,
            expires_in=ttl,
        )
        return DownloadLink(url=url, expires_in=ttl)

    def rendition_ref(
        self, caller: Caller, image_id: str, size: int, fmt: str, accepted: Sequence[str] = ()
    ) -> RenditionRef:
        """See ``Renditions.ref``."""
        return self._renditions.ref(caller, image_id, size, fmt, accepted)

    def thumbnail(self, caller: Caller, ref: RenditionRef) -> RenditionLink:
        """See ``Renditions.link``."""
        return self._renditions.link(caller, ref)

    def sweep(self, grace_seconds: int | None = None) -> SweepReport:
        """See ``Sweeper.sweep``."""
        return self._sweeper.sweep(grace_seconds)

    def batch(self, caller: Caller, action: BatchAction) -> list[BatchResult]:
        """One action on many images, each on its own: one item's failure blocks no other."""
        if not caller.unrestricted and caller.user_id is None:
            raise NotAuthenticated("Sign in to change images")
        return [run_item(self, caller, action, image_id) for image_id in action.image_ids]

    def check_ready(self) -> None:
        self._store.check()
        self._repository.check()

    def _ready(self, image_id: str) -> Image:
        if not is_image_id(image_id):
            raise MalformedImageId(image_id)
        image = self._repository.get(image_id)
        if image is None or image.status is not ImageStatus.READY:
            raise ImageNotFound(image_id)
        return image

    def _write(
        self,
        caller: Caller,
        image_id: str,
        expected_version: int | None,
        write: Callable[[Image], Image],
    ) -> Image:
        """Run ``write`` on the version just read, never on a stale one: the repository's
        condition refuses a version that changed meanwhile. Without ``If-Match`` a lost race is
        retried on a fresh read a few times, then reported as a conflict. A concurrent DELETE
        that won makes the image not found for this caller, as if it came second."""
        self._access.check_signed_in(caller)
        for attempt in range(WRITE_ATTEMPTS):
            current = self._ready(image_id)
            self._access.check_write(caller, current)
            if expected_version is not None and current.version != expected_version:
                raise PreconditionFailed(
                    f"Image {image_id} is at version {current.version}, not {expected_version}"
                )
            try:
                return write(current)
            except ImageConflict:
                if attempt == WRITE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _discard_unpublished(self, image: Image) -> Image | None:
        """After a failed publish: the image if the transaction committed after all (its
        outcome can be unknown); else remove the object, best effort (``sweep`` finds what is
        left: an object without metadata, invisible) and None."""
        try:
            if not self._sweeper.tombstone(image.image_id):
                stored = self._repository.get(image.image_id)
                if stored is not None and stored.status is ImageStatus.READY:
                    return stored
        except Exception:
            log.warning("could not discard unpublished image %s; sweep will", image.image_id)
        return None

    def _delete_quietly(self, image: Image) -> None:
        """The object of an image that was not published; what is left, ``sweep`` removes."""
        try:
            self._store.delete(image.object_key)
        except Exception:
            log.warning("could not delete unpublished object %s; sweep will", image.image_id)


def _or(value: _T | None, default: _T) -> _T:
    return default if value is None else value


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
