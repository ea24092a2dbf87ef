"""Publishing: the one path from an upload's bytes to a READY image, for ``POST /images`` and
for the worker's job of an upload session alike.

The bytes are checked once (their format read from the bytes, decoded within the limits, the
content type checked against the allowed ones and the declared one), the image is built once,
then stored and published; what a listing does not need at once (the placeholder, the smallest
rendition) is ``derive``'s, which the worker runs:

* the bytes go to S3 under the image's object key (put, or copied from where they arrived);
* the metadata item, READY, and all its listing entries are written in one DynamoDB
  transaction that creates the item (it fails if the id exists). Until then the image exists
  only as an object nothing lists. A failure on the way undoes what it can: it marks the id
  with a tombstone (which fails if the transaction did commit after all, and then the upload
  returns the image) and deletes the object. A crash leaves an object without metadata, which
  the sweeper removes.

Duplicates (``dedupe``): a user's bytes (their SHA-256) make one READY image. The claim on
them is written in the publish transaction, conditional on its absence, so two uploads of the
same bytes racing each other still make one image; the one that loses discards what it stored
and answers the winner's image, marked as a duplicate. Before a copy (an upload session's
bytes, up to gigabytes), a read of the claim first spares copying the bytes of an obvious
duplicate at all; bytes at hand (``POST /images``) are put without it: a duplicate costs a put
and a delete, every other upload a read less.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Callable
from datetime import datetime
from typing import BinaryIO

import msgspec

from service.domain import rules
from service.domain.errors import (
    DuplicateImage,
    ImageTooLarge,
    InvalidImage,
    UnsupportedImage,
)
from service.domain.model import Image, ImageInfo, ImageStatus
from service.domain.rules import MetadataValue
from service.domain.scrub import Scrubbed
from service.ports import ImageProcessor, ImageRepository, ImageStore, Readable
from service.usecases.limits import Limits
from service.usecases.renditions import Renditions
from service.usecases.sweeping import Sweeper

log = logging.getLogger(__name__)

_HASH_CHUNK = 1024 * 1024


class Published(msgspec.Struct, frozen=True):
    """What an upload made: a new image, or (``duplicate``) the user's image of the same
    bytes, which the upload left as it was."""

    image: Image
    duplicate: bool = False


class Draft(msgspec.Struct, frozen=True):
    """What the uploader said of an image, validated, with its id and owner: all of an
    ``Image`` but what its bytes tell."""

    image_id: str
    user_id: str
    original_filename: str
    # When the id was made: listings' date ranges bound the ids, so the two must agree.
    created_at: datetime
    description: str = ""
    tags: tuple[str, ...] = ()
    metadata: dict[str, MetadataValue] = msgspec.field(default_factory=dict)


class Publisher:
    def __init__(
        self,
        *,
        store: ImageStore,
        repository: ImageRepository,
        processor: ImageProcessor,
        renditions: Renditions,
        sweeper: Sweeper,
        limits: Limits,
        clock: Callable[[], datetime],
        dedupe: bool,
    ) -> None:
        self._store = store
        self._repository = repository
        self._processor = processor
        self._renditions = renditions
        self._sweeper = sweeper
        self._limits = limits
        self._clock = clock
        self._dedupe = dedupe

    def check_content_type(self, content_type: str, declared: str | None = None) -> None:
        """Whether images of ``content_type`` are accepted, and are what was ``declared``."""
        if content_type not in self._limits.allowed_content_types:
            allowed = ", ".join(self._limits.allowed_content_types)
            raise UnsupportedImage(f"{content_type} is not accepted; allowed: {allowed}")
        declared = rules.content_type(declared)
        if declared is not None and declared != content_type:
            raise UnsupportedImage(
                f"The file was declared as {declared} but its content is {content_type}"
            )

    def check_header(self, header: bytes, declared: str | None) -> ImageInfo:
        """What the first bytes of an image say it is, checked; for bytes too large to read
        whole (multipart uploads)."""
        info = self._processor.inspect_header(io.BytesIO(header))
        self.check_content_type(info.content_type, declared)
        return info

    def without_location(self, body: Readable) -> Scrubbed | None:
        """How the upload read from ``body`` is stored without its location when
        ``strip_gps`` asks (every upload path stores what this says); None: as it is.
        LocationNotRemovable when it carries a location that cannot be removed."""
        if not self._limits.strip_gps:
            return None
        scrubbed = self._processor.without_location(body)
        if scrubbed.removed:
            log.info("location removed from an upload: %s", "; ".join(scrubbed.removed))
        return scrubbed

    def check_bytes(self, body: BinaryIO, declared: str | None) -> ImageInfo:
        """What ``body`` holds, checked whole: not empty, within the size limit, decoded
        within the processor's budgets, of an allowed type that is the one ``declared``."""
        size = _size_of(body)
        if size == 0:
            raise InvalidImage("The file is empty")
        if size > self._limits.max_file_size:
            raise ImageTooLarge(
                f"The file is {size} bytes; the limit is {self._limits.max_file_size} bytes"
            )
        # A format that is not allowed is refused from the header, before it is decoded.
        info = self._processor.inspect(body, accepted=self._limits.allowed_content_types)
        self.check_content_type(info.content_type, declared)
        body.seek(0)
        return info

    def publish_bytes(self, draft: Draft, body: BinaryIO, declared: str | None) -> Published:
        """Check ``body`` whole (decoded within the limits, EXIF read), remove its location
        when ``strip_gps`` asks, and publish it: the size and SHA-256 of the image describe the
        bytes stored. Its placeholder and smallest rendition are ``derive``'s, later."""
        info = self.check_bytes(body, declared)
        scrubbed = self.without_location(body)
        body.seek(0)
        if scrubbed is not None and scrubbed.removed:
            body = io.BytesIO(scrubbed.apply(body.read()))
        image = self._image(draft, info, _size_of(body), _sha256_of(body))

        def put(image: Image) -> None:
            body.seek(0)
            self._store.put(
                image.object_key, body, content_type=image.content_type, sha256=image.sha256
            )

        return self._publish(image, put, look_first=False)

    def publish_copy(
        self,
        draft: Draft,
        info: ImageInfo,
        *,
        size: int,
        sha256: str,
        copy: Callable[[Image], None],
    ) -> Published:
        """Publish bytes already checked, which ``copy`` puts under the image's object key:
        bytes stored as ``without_location`` said."""
        return self._publish(self._image(draft, info, size, sha256), copy, look_first=True)

    def derive(self, image: Image, body: BinaryIO) -> Image:
        """Make the placeholder, the perceptual hash and the smallest rendition of a published
        ``image`` from its stored bytes ``body``, and record them (stored once, however often
        this runs)."""
        if image.derived:
            return image
        smallest = self._renditions.render_smallest(body)
        if smallest is None:
            return image
        return self._renditions.keep(
            image,
            self._limits.smallest_rendition,
            smallest,
            placeholder=self._processor.placeholder(smallest.data),
            phash=self._processor.perceptual_hash(smallest.data),
        )

    def retire(self, image_id: str) -> bool:
        """Make sure nothing is ever published under ``image_id`` (a tombstone, its object
        deleted); False if an image was published under it."""
        return self._sweeper.tombstone(image_id) or self.published(image_id) is None

    def published(self, image_id: str) -> Image | None:
        """The READY image of ``image_id``, if it was published."""
        image = self._repository.get(image_id)
        return image if image is not None and image.status is ImageStatus.READY else None

    def _image(
        self,
        draft: Draft,
        info: ImageInfo,
        size: int,
        sha256: str,
    ) -> Image:
        width, height = info.displayed_size
        location = info.location.rounded(self._limits.gps_precision) if info.location else None
        return Image(
            image_id=draft.image_id,
            user_id=draft.user_id,
            original_filename=draft.original_filename,
            description=draft.description,
            tags=draft.tags,
            metadata=dict(draft.metadata),
            size_bytes=size,
            sha256=sha256,
            created_at=draft.created_at,
            updated_at=draft.created_at,
            content_type=info.content_type,
            width=width,
            height=height,
            pixel_width=info.width,
            pixel_height=info.height,
            exif=info.exif,
            location=location,
        )

    def _publish(
        self, image: Image, store: Callable[[Image], None], *, look_first: bool
    ) -> Published:
        if self._dedupe and look_first:
            holder = self._repository.claim_of(image.user_id, image.sha256)
            existing = self.published(holder) if holder else None
            if existing is not None:
                return Published(existing, duplicate=True)
        store(image)
        try:
            try:
                return Published(self._repository.publish(image, claim=self._dedupe))
            except DuplicateImage as duplicate:
                existing = self.published(duplicate.image_id)
                if existing is not None:
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

    def _discard_unpublished(self, image: Image) -> Image | None:
        """After a failed publish: the image if the transaction committed after all (its
        outcome can be unknown); else remove the object, best effort (``sweep`` finds what is
        left: an object without metadata, invisible) and None."""
        try:
            if not self._sweeper.tombstone(image.image_id):
                return self.published(image.image_id)
        except Exception:
            log.warning("could not discard unpublished image %s; sweep will", image.image_id)
        return None

    def _delete_quietly(self, image: Image) -> None:
        """The object of an image that was not published; what is left, ``sweep`` removes."""
        try:
            self._store.delete(image.object_key)
        except Exception:
            log.warning("could not delete unpublished object %s; sweep will", image.image_id)


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
