"""In-memory fakes of the ports, and a clock that stands still. The contract tests hold the fakes
to the real adapters' behaviour."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import BinaryIO
from urllib.parse import quote

from ulid import ULID

from service.errors import ImageConflict, StorageUnavailable
from service.model import Image, ImageQuery, ImageStatus, Page, id_time_bounds


@dataclass
class InMemoryImageStore:
    objects: dict[str, bytes] = field(default_factory=dict)
    content_types: dict[str, str] = field(default_factory=dict)

    def put(self, key: str, body: BinaryIO, *, content_type: str, sha256: str) -> None:
        self.objects[key] = body.read()
        self.content_types[key] = content_type

    def delete(self, key: str) -> None:
        self.objects.pop(key, None)
        self.content_types.pop(key, None)

    def read(self, key: str) -> bytes:
        if key not in self.objects:
            raise StorageUnavailable(f"Could not read the image (NoSuchKey {key})")
        return self.objects[key]

    def keys_between(self, low: str, high: str) -> Iterator[str]:
        yield from (key for key in sorted(self.objects) if low <= key <= high)

    def download_url(self, key: str, *, filename: str, content_type: str, expires_in: int) -> str:
        return f"memory://{key}?filename={quote(filename)}&expires_in={expires_in}"

    def check(self) -> None:
        return None


@dataclass
class InMemoryImageRepository:
    images: dict[str, Image] = field(default_factory=dict)
    claimed: set[str] = field(default_factory=set)

    def publish(self, image: Image) -> Image:
        if image.image_id in self.images:
            raise ImageConflict(f"Image {image.image_id} exists")
        ready = image.with_status(ImageStatus.READY)
        self.images[image.image_id] = ready
        return ready

    def get(self, image_id: str) -> Image | None:
        return self.images.get(image_id)

    def get_many(self, image_ids: Sequence[str]) -> list[Image]:
        return [self.images[i] for i in dict.fromkeys(image_ids) if i in self.images]

    def replace(self, old: Image, new: Image) -> Image:
        self._expect_unchanged(old)
        self.images[new.image_id] = new
        return new

    def hide(self, image: Image) -> Image:
        self._expect_unchanged(image)
        hidden = image.with_status(ImageStatus.DELETING)
        self.images[image.image_id] = hidden
        return hidden

    def claim_orphan(self, image_id: str) -> Image:
        current = self.images.get(image_id)
        if current is not None and current.status is not ImageStatus.PENDING:
            raise ImageConflict(f"Image {image_id} exists")
        created = ULID.from_str(image_id).datetime
        claimed = Image(image_id, "", "", 0, 0, 0, "", "", created, created)
        self.images[image_id] = claimed.with_status(ImageStatus.DELETING)
        self.claimed.add(image_id)
        return self.images[image_id]

    def forget_claims(self, older_than: datetime) -> int:
        _, newest = id_time_bounds(None, older_than)
        old = {image_id for image_id in self.claimed if image_id <= newest}
        for image_id in old:
            self.images.pop(image_id, None)
        self.claimed -= old
        return len(old)

    def remove(self, image_id: str) -> None:
        self.images.pop(image_id, None)
        self.claimed.discard(image_id)

    def search(self, query: ImageQuery, position: dict[str, str] | None) -> Page:
        low, high = id_time_bounds(query.date_from, query.date_to)
        if position:
            high = min(high, position["after"])
        matches = [
            image
            for image in sorted(self.images.values(), key=lambda i: i.image_id, reverse=True)
            if image.status is ImageStatus.READY
            and low <= image.image_id <= high
            and not (position and image.image_id == position["after"])
            and (query.user_id is None or image.user_id == query.user_id)
            and set(query.tags) <= set(image.tags)
            and (query.content_type is None or image.content_type == query.content_type)
        ]
        page = matches[: query.limit]
        more = len(matches) > query.limit
        next_position = {"after": page[-1].image_id} if more else None
        return Page(page, next_position)

    def unfinished(self, older_than: datetime) -> Iterator[Image]:
        _, newest_stale = id_time_bounds(None, older_than)
        for image in list(self.images.values()):
            if image.image_id in self.claimed:
                continue
            if image.status is ImageStatus.DELETING or (
                image.status is ImageStatus.PENDING and image.image_id <= newest_stale
            ):
                yield image

    def check(self) -> None:
        return None

    def _expect_unchanged(self, image: Image) -> None:
        self._expect(image.image_id, ImageStatus.READY)
        current = self.images[image.image_id]
        if (current.version, current.user_id) != (image.version, image.user_id):
            raise ImageConflict(f"Image {image.image_id} changed meanwhile")

    def _expect(self, image_id: str, status: ImageStatus) -> None:
        current = self.images.get(image_id)
        if current is None or current.status is not status:
            raise ImageConflict(f"Image {image_id} is not {status.value}")


@dataclass
class FixedClock:
    """The service's clock: it stands still until a test moves it."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now
