"""In-memory fakes of the ports, and a clock that stands still. The contract tests hold the fakes
to the real adapters' behaviour."""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import BinaryIO
from urllib.parse import quote, urlencode

from msgspec.structs import replace
from ulid import ULID

from service.domain import rules
from service.domain.errors import (
    DuplicateImage,
    ImageConflict,
    StorageUnavailable,
    UploadChanged,
    UploadIncomplete,
)
from service.domain.idempotency_keys import (
    IN_PROGRESS_SECONDS,
    RETENTION_SECONDS,
    Record,
    RecordStatus,
    StoredResponse,
    answer,
)
from service.domain.jobs import Delivery, Job
from service.domain.model import (
    Image,
    ImageQuery,
    ImageStatus,
    Page,
    Placeholder,
    RenditionInfo,
    id_time_bounds,
)
from service.domain.scrub import Piece, Scrubbed
from service.domain.sessions import (
    ObjectVersion,
    PresignedPost,
    UploadedPart,
    UploadSession,
)
from service.domain.similarity import MAX_DISTANCE, distance
from service.ports import Readable
from service.usecases.processing import JobProcessor


@dataclass
class InMemoryImageStore:
    """``answering=False`` stands for a bucket that does not answer: ``check()`` fails."""

    objects: dict[str, bytes] = field(default_factory=dict)
    content_types: dict[str, str] = field(default_factory=dict)
    answering: bool = True

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
        # The query S3 signs: the response headers it will send, and the URL's lifetime.
        query = urlencode(
            {
                "response-content-disposition": (
                    f'attachment; filename="{rules.ascii_filename(filename)}"; '
                    f"filename*=UTF-8''{quote(filename, safe='')}"
                ),
                "response-content-type": content_type,
                "X-Amz-Expires": expires_in,
            }
        )
        return f"memory://store/{key}?{query}"

    def check(self) -> None:
        if not self.answering:
            raise StorageUnavailable("Could not reach the bucket (no answer)")

    def put_once(self, key: str, data: bytes, *, content_type: str) -> bool:
        if key in self.objects:
            return False
        self.objects[key] = data
        self.content_types[key] = content_type
        return True

    def object_url(self, key: str, *, expires_in: int) -> str:
        return f"memory://store/{key}?{urlencode({'X-Amz-Expires': expires_in})}"

    def delete_prefix(self, prefix: str) -> int:
        doomed = [key for key in self.objects if key.startswith(prefix)]
        for key in doomed:
            self.delete(key)
        return len(doomed)

    def prefixes(self, prefix: str, *, start_after: str, limit: int) -> list[str]:
        found = sorted(
            {
                prefix + key[len(prefix) :].split("/", 1)[0] + "/"
                for key in self.objects
                if key.startswith(prefix) and "/" in key[len(prefix) :]
            }
        )
        return [folder for folder in found if folder > start_after][:limit]


@dataclass
class InMemoryImageRepository:
    """``answering=False`` stands for a table that does not answer: ``check()`` fails."""

    images: dict[str, Image] = field(default_factory=dict)
    claims: dict[tuple[str, str], str] = field(default_factory=dict)
    tombstones: set[str] = field(default_factory=set)
    answering: bool = True

    def publish(self, image: Image, *, claim: bool = False) -> Image:
        if image.image_id in self.images:
            raise ImageConflict(f"Image {image.image_id} exists")
        owned = (image.user_id, image.sha256)
        # setdefault is one step under the GIL: of two racing publishes, one claims.
        if claim and (holder := self.claims.setdefault(owned, image.image_id)) != image.image_id:
            raise DuplicateImage(holder)
        ready = image.with_status(ImageStatus.READY)
        self.images[image.image_id] = ready
        return ready

    def claim_of(self, user_id: str, sha256: str) -> str | None:
        return self.claims.get((user_id, sha256))

    def release_claim(self, user_id: str, sha256: str, image_id: str) -> None:
        if self.claims.get((user_id, sha256)) == image_id:
            del self.claims[(user_id, sha256)]

    def get(self, image_id: str) -> Image | None:
        return self.images.get(image_id)

    def get_many(self, image_ids: Sequence[str]) -> list[Image]:
        return [self.images[i] for i in dict.fromkeys(image_ids) if i in self.images]

    def replace(self, old: Image, new: Image) -> Image:
        self._expect_unchanged(old)
        if self.images[old.image_id].renditions != old.renditions:
            raise ImageConflict(f"Image {old.image_id} has new renditions")
        self.images[new.image_id] = new
        return new

    def hide(self, image: Image) -> Image:
        self._expect_unchanged(image)
        owned = (image.user_id, image.sha256)
        if self.claims.get(owned) == image.image_id:
            del self.claims[owned]
        hidden = image.with_status(ImageStatus.DELETING)
        self.images[image.image_id] = hidden
        return hidden

    def tombstone(self, image_id: str) -> Image:
        current = self.images.get(image_id)
        if current is not None:
            raise ImageConflict(f"Image {image_id} exists")
        created = ULID.from_str(image_id).datetime
        tombstone = Image(image_id, "", "", 0, 0, 0, "", "", created, created)
        self.images[image_id] = tombstone.with_status(ImageStatus.DELETING)
        self.tombstones.add(image_id)
        return self.images[image_id]

    def forget_tombstones(self, older_than: datetime) -> int:
        _, newest = id_time_bounds(None, older_than)
        old = {image_id for image_id in self.tombstones if image_id <= newest}
        for image_id in old:
            self.images.pop(image_id, None)
        self.tombstones -= old
        return len(old)

    def remove(self, image_id: str) -> None:
        self.images.pop(image_id, None)
        self.tombstones.discard(image_id)

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
            and not query.by_capture_time
        ]
        if query.by_capture_time:
            matches = self._by_capture_time(query, position)
        page = matches[: query.limit]
        more = len(matches) > query.limit
        next_position = {"after": page[-1].image_id} if more else None
        if more and query.by_capture_time:
            next_position = {"after": _taken_key(page[-1])}
        return Page(page, next_position)

    def _by_capture_time(self, query: ImageQuery, position: dict[str, str] | None) -> list[Image]:
        """Newest capture first; images without a capture time are not found."""
        found = [
            image
            for image in self.images.values()
            if image.status is ImageStatus.READY
            and image.taken_at is not None
            and (query.user_id is None or image.user_id == query.user_id)
            and (query.taken_from is None or image.taken_at >= query.taken_from)
            and (query.taken_to is None or image.taken_at <= query.taken_to)
            and (position is None or _taken_key(image) < position["after"])
        ]
        return sorted(found, key=_taken_key, reverse=True)

    def add_rendition(
        self,
        image_id: str,
        rendition: RenditionInfo,
        *,
        placeholder: Placeholder | None = None,
        phash: str | None = None,
    ) -> None:
        current = self.images.get(image_id)
        if current is None or current.status is not ImageStatus.READY:
            raise ImageConflict(f"Image {image_id} is not READY")
        if rendition not in current.renditions:
            renditions = sorted((*current.renditions, rendition), key=lambda r: (r.size, r.format))
            current = replace(current, renditions=tuple(renditions))
        if placeholder is not None:
            current = replace(
                current, blurhash=placeholder.blurhash, dominant_color=placeholder.dominant_color
            )
        if phash is not None:
            current = replace(current, phash=phash)
        self.images[image_id] = current

    def similar(self, user_id: str, phash: str) -> list[tuple[str, int]]:
        found = [
            (image.image_id, distance(phash, image.phash))
            for image in self.images.values()
            if image.user_id == user_id
            and image.status is ImageStatus.READY
            and image.phash is not None
            and distance(phash, image.phash) <= MAX_DISTANCE
        ]
        newest_first = sorted(found, reverse=True)
        return sorted(newest_first, key=lambda pair: pair[1])

    def unfinished(self) -> Iterator[Image]:
        for image in list(self.images.values()):
            if image.image_id not in self.tombstones and image.status is ImageStatus.DELETING:
                yield image

    def check(self) -> None:
        if not self.answering:
            raise StorageUnavailable("Could not describe the table (no answer)")

    def _expect_unchanged(self, image: Image) -> None:
        self._expect(image.image_id, ImageStatus.READY)
        current = self.images[image.image_id]
        if (current.version, current.user_id) != (image.version, image.user_id):
            raise ImageConflict(f"Image {image.image_id} changed meanwhile")

    def _expect(self, image_id: str, status: ImageStatus) -> None:
        current = self.images.get(image_id)
        if current is None or current.status is not status:
            raise ImageConflict(f"Image {image_id} is not {status.value}")


def _taken_key(image: Image) -> str:
    assert image.taken_at is not None
    return f"{image.taken_at.strftime('%Y-%m-%dT%H:%M:%SZ')}#{image.image_id}"


@dataclass
class InMemoryUploadStore:
    """Shares ``objects`` with an InMemoryImageStore when given its dict (one bucket). Like
    moto, it does not enforce a presigned POST's policy: ``receive`` stands for the client."""

    objects: dict[str, bytes] = field(default_factory=dict)
    multiparts: dict[str, dict[int, bytes]] = field(default_factory=dict)

    def presigned_post(
        self, key: str, *, size: int, content_type: str, expires_in: int
    ) -> PresignedPost:
        return PresignedPost(
            url="memory://bucket", fields={"key": key, "Content-Type": content_type}
        )

    def start_multipart(self, key: str, *, content_type: str) -> str:
        multipart_id = f"mp-{len(self.multiparts) + 1}"
        self.multiparts[multipart_id] = {}
        return multipart_id

    def part_urls(
        self, key: str, multipart_id: str, sizes: Mapping[int, int], expires_in: int
    ) -> dict[int, str]:
        return {
            n: f"memory://{key}?uploadId={multipart_id}&partNumber={n}&contentLength={size}"
            for n, size in sizes.items()
        }

    def receive_part(self, multipart_id: str, number: int, data: bytes) -> str:
        self.multiparts[multipart_id][number] = data
        return _etag(data)

    def list_parts(self, key: str, multipart_id: str) -> list[UploadedPart]:
        parts = self.multiparts.get(multipart_id, {})
        return [UploadedPart(n, _etag(d), len(d)) for n, d in sorted(parts.items())]

    def complete_multipart(
        self, key: str, multipart_id: str, parts: Sequence[tuple[int, str]]
    ) -> None:
        if multipart_id not in self.multiparts:
            if key in self.objects:
                return
            raise UploadIncomplete("S3 refused the parts (NoSuchUpload)")
        held = self.multiparts[multipart_id]
        if any(n not in held or _etag(held[n]) != etag for n, etag in parts):
            raise UploadIncomplete("S3 refused the parts (InvalidPart)")
        self.objects[key] = b"".join(held[n] for n, _ in sorted(parts))
        del self.multiparts[multipart_id]

    def abort_multipart(self, key: str, multipart_id: str) -> None:
        self.multiparts.pop(multipart_id, None)

    def version_of(self, key: str) -> ObjectVersion | None:
        data = self.objects.get(key)
        return None if data is None else ObjectVersion(size=len(data), etag=_etag(data))

    def read(self, key: str, *, etag: str) -> bytes:
        return self._read(key, etag)

    def read_header(self, key: str, length: int, *, etag: str) -> bytes:
        return self._read(key, etag)[:length]

    def sha256_of(self, key: str, *, etag: str) -> str:
        return hashlib.sha256(self._read(key, etag)).hexdigest()

    @contextmanager
    def stream(self, key: str, *, etag: str) -> Iterator[Readable]:
        yield io.BytesIO(self._read(key, etag))

    def compose(
        self,
        source: str,
        destination: str,
        pieces: Sequence[Piece],
        *,
        content_type: str,
        etag: str,
    ) -> str:
        composed = Scrubbed(tuple(pieces)).apply(self._read(source, etag))
        self.objects[destination] = composed
        return _etag(composed)

    def copy(
        self, source: str, destination: str, *, content_type: str, sha256: str, etag: str
    ) -> None:
        self.objects[destination] = self._read(source, etag)

    def delete(self, key: str) -> None:
        self.objects.pop(key, None)

    def _read(self, key: str, etag: str) -> bytes:
        """The object, if it is still the version ``etag`` names (S3's 412 otherwise)."""
        if key not in self.objects:
            raise StorageUnavailable(f"Could not read the upload (NoSuchKey {key})")
        if _etag(self.objects[key]) != etag:
            raise UploadChanged()
        return self.objects[key]


def _etag(data: bytes) -> str:
    return f'"{hashlib.md5(data, usedforsecurity=False).hexdigest()}"'


@dataclass
class InMemoryUploadSessions:
    sessions: dict[str, UploadSession] = field(default_factory=dict)

    def add(self, session: UploadSession) -> None:
        if session.upload_id in self.sessions:
            raise ImageConflict(f"Upload {session.upload_id} exists")
        self.sessions[session.upload_id] = session

    def get(self, upload_id: str) -> UploadSession | None:
        return self.sessions.get(upload_id)

    def transition(self, old: UploadSession, new: UploadSession) -> UploadSession:
        current = self.sessions.get(old.upload_id)
        if current is None or (current.status, current.image_id) != (old.status, old.image_id):
            raise ImageConflict(f"Upload {old.upload_id} changed meanwhile")
        self.sessions[new.upload_id] = new
        return new

    def remove(self, upload_id: str) -> None:
        self.sessions.pop(upload_id, None)

    def expired(self, before: datetime) -> Iterator[UploadSession]:
        for session in list(self.sessions.values()):
            if not session.status.finished and session.expires_at < before:
                yield session


@dataclass
class InMemoryIdempotencyStore:
    """Records by (owner, key), with the adapter's expiry rules; ``clock`` in epoch seconds."""

    records: dict[tuple[str, str], tuple[Record, float, float]] = field(default_factory=dict)
    clock: Callable[[], float] = time.time

    def begin(self, owner: str, key: str, request_hash: str) -> StoredResponse | None:
        now = self.clock()
        held = self.records.get((owner, key))
        if held is not None:
            record, expires, locked_until = held
            taken_over = record.status is RecordStatus.IN_PROGRESS and locked_until < now
            if expires >= now and not taken_over:
                return answer(record, request_hash)
        self.records[(owner, key)] = (
            Record(RecordStatus.IN_PROGRESS, request_hash),
            now + RETENTION_SECONDS,
            now + IN_PROGRESS_SECONDS,
        )
        return None

    def complete(self, owner: str, key: str, request_hash: str, response: StoredResponse) -> None:
        record, expires, _ = self.records[(owner, key)]
        if record.status is not RecordStatus.IN_PROGRESS or record.request_hash != request_hash:
            raise ImageConflict("The idempotency key changed meanwhile")
        self.records[(owner, key)] = (
            Record(RecordStatus.COMPLETED, request_hash, response),
            expires,
            expires,
        )

    def release(self, owner: str, key: str) -> None:
        held = self.records.get((owner, key))
        if held is not None and held[0].status is RecordStatus.IN_PROGRESS:
            del self.records[(owner, key)]


@dataclass
class FixedClock:
    """The service's clock: it stands still until a test moves it."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@dataclass
class InMemoryJobQueue:
    """The jobs queue: what was sent, in order; ``answering=False`` fails every send as an
    unreachable queue does."""

    jobs: list[Job] = field(default_factory=list)
    answering: bool = True

    def send(self, job: Job) -> None:
        if not self.answering:
            raise StorageUnavailable("Could not queue the job (no answer)")
        self.jobs.append(job)

    def run_all(self, processor: JobProcessor, *, last_attempt: bool = False) -> int:
        """Deliver every job sent (and those their runs send) once, in order; how many."""
        ran = 0
        while self.jobs:
            job = self.jobs.pop(0)
            processor.run(Delivery(job=job, attempt=1, last_attempt=last_attempt))
            ran += 1
        return ran
