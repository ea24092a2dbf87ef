"""ImageService: the use cases on images. Talks to ports only; knows nothing of HTTP, boto3 or
Pillow.

* upload: through the publisher (``publishing.py``), the path upload sessions share; a job
  then asks the worker for the placeholder and the smallest rendition.
* delete: READY -> DELETING with the listing entries removed in one transaction (hidden) ->
  object and renditions deleted -> item deleted. A crash leaves a DELETING item that the
  sweeper (``sweeping.py``) finishes.
* renditions (``renditions.py``) are made on first request and stored once.

No lost updates: every image carries a ``version``; a change or delete is computed from the
version read and written on the condition that it is still the stored one (and still the
owner's), together with the listing entries it moves, so the entries always match the tags.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import BinaryIO, TypeVar

import msgspec
from msgspec.structs import replace

from service.domain import rules
from service.domain.access import AccessPolicy
from service.domain.cursors import CursorCodec
from service.domain.errors import (
    ImageConflict,
    ImageNotFound,
    MalformedImageId,
    PreconditionFailed,
    StorageUnavailable,
)
from service.domain.jobs import Job, JobKind
from service.domain.model import (
    Caller,
    Image,
    ImageChanges,
    ImageQuery,
    ImageStatus,
    NewImage,
    is_image_id,
    new_image_id,
    utc_now,
)
from service.domain.queries import check_query
from service.ports import ImageProcessor, ImageRepository, ImageStore, JobQueue
from service.usecases.batch import BatchAction, BatchResult, run_item
from service.usecases.limits import Limits
from service.usecases.publishing import Draft, Published, Publisher
from service.usecases.renditions import RenditionLink, RenditionRef, Renditions
from service.usecases.sweeping import Sweeper, SweepReport

_T = TypeVar("_T")
log = logging.getLogger(__name__)

_HASH_CHUNK = 1024 * 1024
WRITE_ATTEMPTS = 3


class ListResult(msgspec.Struct, frozen=True):
    """One page of images and the cursor of the next one (None: the last page)."""

    items: list[Image]
    next_cursor: str | None


class SimilarImage(msgspec.Struct, frozen=True):
    """An image near another, and how many bits of their perceptual hashes differ."""

    image: Image
    distance: int


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
        jobs: JobQueue,
        access: AccessPolicy | None = None,
        clock: Callable[[], datetime] = utc_now,
        sweep_start: Callable[[], str] | None = None,
        dedupe: bool = False,
    ) -> None:
        self._store = store
        self._repository = repository
        self._cursors = cursors
        self._limits = limits
        self._jobs = jobs
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
            clock=clock,
            sweep_start=sweep_start,
        )
        self.publisher = Publisher(
            store=store,
            repository=repository,
            processor=processor,
            renditions=self._renditions,
            sweeper=self._sweeper,
            limits=limits,
            clock=clock,
            dedupe=dedupe,
        )
        """The publishing path, which upload sessions share."""

    def upload(self, caller: Caller, new: NewImage, body: BinaryIO) -> Published:
        owner = self._access.owner_of_upload(caller, new.user_id)
        now = self._clock()
        image_id = new_image_id(now)
        draft = Draft(
            image_id=image_id,
            user_id=owner,
            created_at=now,
            original_filename=rules.filename(new.original_filename, fallback=image_id),
            description=new.description,
            tags=new.tags,
            metadata=dict(new.metadata),
        )
        published = self.publisher.publish_bytes(draft, body, new.declared_content_type)
        if not published.duplicate:
            try:
                self._jobs.send(Job(JobKind.DERIVE, published.image.image_id))
            except StorageUnavailable:
                # Derived data: the renditions are made on request all the same.
                log.warning("no placeholder job for image %s", published.image.image_id)
        return published

    def get(self, caller: Caller, image_id: str) -> Image:
        self._access.check_read(caller)
        return self._ready(image_id)

    @property
    def rendition_sizes(self) -> tuple[int, ...]:
        return self._limits.rendition_sizes

    def may_change(self, caller: Caller, image: Image) -> bool:
        """Whether ``caller`` may edit or delete ``image`` (to offer it, not to allow it)."""
        return self._access.may_write(caller, image)

    def sees_location(self, caller: Caller, image: Image) -> bool:
        """Whether ``caller`` may see where ``image`` was taken (its owner only)."""
        return self._access.may_see_location(caller, image)

    def similar(self, caller: Caller, image_id: str) -> list[SimilarImage]:
        """The caller's own images near ``image_id`` (its perceptual hash within
        MAX_DISTANCE), nearest first, then newest; without sign-in (AUTH_MODE=none), its
        owner's. None for an image whose hash is not made yet."""
        self._access.check_read(caller)
        image = self._ready(image_id)
        if image.phash is None:
            return []
        owner = caller.user_id if caller.user_id is not None else image.user_id
        near = [
            pair for pair in self._repository.similar(owner, image.phash) if pair[0] != image_id
        ]
        found = {found.image_id: found for found in self.get_many(caller, [i for i, _ in near])}
        return [SimilarImage(found[i], apart) for i, apart in near if i in found]

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
        self,
        caller: Caller,
        image_id: str,
        size: int | None,
        fmt: str,
        accepted: Sequence[str] = (),
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
        self._access.check_signed_in(caller)
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


def _or(value: _T | None, default: _T) -> _T:
    return default if value is None else value
