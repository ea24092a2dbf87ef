"""Renditions: resized, re-encoded copies of an original, made on first request and stored once.

The store's conditional put keeps the first of concurrent writers (their bytes are identical
anyway), and the metadata and the listing entries record a rendition with an idempotent set ADD,
in one transaction. A rendition stored for an image deleted meanwhile is an orphan that the
sweeper removes. The worker makes the smallest rendition of every upload, with the placeholder
drawn from it.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Sequence
from typing import BinaryIO

import msgspec
from msgspec.structs import replace

from service.domain.access import AccessPolicy
from service.domain.errors import (
    ImageConflict,
    InvalidImage,
    InvalidInput,
    MalformedImageId,
)
from service.domain.model import (
    Caller,
    Image,
    Placeholder,
    Rendition,
    RenditionInfo,
    is_image_id,
    rendition_key,
)
from service.ports import ImageProcessor, ImageRepository, ImageStore
from service.usecases.limits import Limits

log = logging.getLogger(__name__)

# A presigned rendition URL is cached by clients for its TTL less this margin, so that a cached
# redirect never points at an expired URL.
URL_TTL_MARGIN = 60
# Formats picked by format=auto, best first, when the client accepts them and they are allowed.
AUTO_FORMAT_PREFERENCE = ("avif", "webp", "jpeg")


class RenditionRef(msgspec.Struct, frozen=True):
    """Which rendition a thumbnail request names, known before anything is read."""

    image_id: str
    size: int
    format: str

    @property
    def etag(self) -> str:
        return f"{self.image_id}-{self.size}-{self.format}"


class RenditionLink(msgspec.Struct, frozen=True):
    """A presigned URL to a rendition, what it shows, and how long a client may cache it."""

    url: str
    expires_in: int
    width: int
    height: int
    format: str
    cache_seconds: int


class Renditions:
    def __init__(
        self,
        *,
        store: ImageStore,
        repository: ImageRepository,
        processor: ImageProcessor,
        limits: Limits,
        access: AccessPolicy,
        ready: Callable[[str], Image],
    ) -> None:
        self._store = store
        self._repository = repository
        self._processor = processor
        self._limits = limits
        self._access = access
        self._ready = ready  # the READY image of an id, or ImageNotFound
        self._formats: tuple[str, ...] | None = None

    def ref(
        self,
        caller: Caller,
        image_id: str,
        size: int | None,
        fmt: str,
        accepted: Sequence[str] = (),
    ) -> RenditionRef:
        """Which rendition a request names: no I/O, so that a cached copy (``If-None-Match``)
        is answered before any work. ``size`` is one of the configured sizes (None: the
        smallest); ``fmt`` is a format or ``auto`` (the best one allowed among ``accepted``,
        the formats the client accepts; JPEG otherwise)."""
        self._access.check_read(caller)
        if not is_image_id(image_id):
            raise MalformedImageId(image_id)
        sizes = self._limits.rendition_sizes
        size = self._limits.smallest_rendition if size is None else size
        if size not in sizes:
            listed = ", ".join(str(s) for s in sizes)
            raise InvalidInput(f"size must be one of {listed}", {"size": [f"one of {listed}"]})
        allowed = self._served_formats()
        if fmt == "auto":
            fmt = next(
                (f for f in AUTO_FORMAT_PREFERENCE if f in allowed and f in accepted), "jpeg"
            )
        elif fmt not in allowed:
            listed = ", ".join(("auto", *allowed))
            raise InvalidInput(
                f"format {fmt} is not served; one of {listed}", {"format": [f"one of {listed}"]}
            )
        return RenditionRef(image_id, size, fmt)

    def link(self, caller: Caller, ref: RenditionRef) -> RenditionLink:
        """A short-lived URL of the stored rendition, made and stored on first request."""
        self._access.check_read(caller)
        image = self._ready(ref.image_id)
        info = image.rendition(ref.size, ref.format)
        key = rendition_key(image.image_id, ref.size, ref.format)
        if info is None:
            original = self._store.read(image.object_key)
            rendition = self._processor.render(io.BytesIO(original), ref.size, ref.format)
            info = RenditionInfo(ref.size, ref.format, rendition.width, rendition.height)
            # Concurrent first requests both render; the store keeps the first write and the
            # set ADD records it once.
            self._store.put_once(key, rendition.data, content_type=rendition.content_type)
            try:
                self._repository.add_rendition(image.image_id, info)
            except ImageConflict:
                # Deleted meanwhile: not found. Only changed (PATCHes): the rendition is stored
                # and served; a later request records it.
                self._ready(image.image_id)
        ttl = self._limits.thumbnail_url_ttl
        return RenditionLink(
            url=self._store.object_url(key, expires_in=ttl),
            expires_in=ttl,
            width=info.width,
            height=info.height,
            format=info.format,
            cache_seconds=max(0, ttl - URL_TTL_MARGIN),
        )

    def render_smallest(self, body: BinaryIO) -> Rendition | None:
        """The smallest rendition in JPEG, made by the worker, which draws the placeholder from
        it. An image the processor cannot render gets no placeholder."""
        try:
            return self._processor.render(body, self._limits.smallest_rendition, "jpeg")
        except InvalidImage:
            log.warning("could not render a placeholder")
            return None
        finally:
            body.seek(0)

    def keep(
        self,
        image: Image,
        size: int,
        rendition: Rendition,
        *,
        placeholder: Placeholder | None = None,
        phash: str | None = None,
    ) -> Image:
        """Store ``rendition`` (once) and record it on the image, with ``placeholder`` and the
        perceptual hash. An image changed or deleted meanwhile is a conflict (ImageConflict)."""
        key = rendition_key(image.image_id, size, rendition.format)
        info = RenditionInfo(size, rendition.format, rendition.width, rendition.height)
        self._store.put_once(key, rendition.data, content_type=rendition.content_type)
        self._repository.add_rendition(image.image_id, info, placeholder=placeholder, phash=phash)
        kept = replace(image, renditions=tuple(sorted({*image.renditions, info}, key=_order)))
        if placeholder is not None:
            kept = replace(
                kept, blurhash=placeholder.blurhash, dominant_color=placeholder.dominant_color
            )
        return kept if phash is None else replace(kept, phash=phash)

    def _served_formats(self) -> tuple[str, ...]:
        """RENDITION_FORMATS that the processor can encode, asked once: the answer loads the
        codecs, which a request that names no rendition never needs."""
        if self._formats is None:
            encodable = self._processor.formats()
            self._formats = tuple(f for f in self._limits.rendition_formats if f in encodable)
        return self._formats


def _order(rendition: RenditionInfo) -> tuple[int, str]:
    return rendition.size, rendition.format
