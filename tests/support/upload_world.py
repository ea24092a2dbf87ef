"""Upload sessions and the worker's job processor on the in-memory fakes, with real Pillow and
a clock that stands still: what the unit tests of ``complete`` and of the jobs share.

The incoming store and the image store are one bucket (one ``objects`` dict), as on S3.
"""

from __future__ import annotations

import io
from typing import BinaryIO

from service.adapters.pillow_processor import PillowImageProcessor
from service.bootstrap import image_limits, upload_limits
from service.domain.cursors import CursorCodec
from service.domain.jobs import Delivery, Job, JobKind
from service.domain.model import (
    ORIGINALS_PREFIX,
    Caller,
    Image,
    ImageQuery,
    ImageStatus,
    rendition_key,
)
from service.domain.sessions import MIB, NewUpload, SessionStatus, Ticket, UploadSession
from service.ports import ImageProcessor
from service.settings import Settings
from service.usecases.images import ImageService
from service.usecases.processing import JobProcessor
from service.usecases.upload_sessions import UploadService
from tests.support.aws import CURSOR_SECRET
from tests.support.fakes import (
    FixedClock,
    InMemoryImageRepository,
    InMemoryImageStore,
    InMemoryJobQueue,
    InMemoryUploadSessions,
    InMemoryUploadStore,
)
from tests.support.images import START

ALICE = Caller(user_id="alice")
BOB = Caller(user_id="bob")


def _spool() -> BinaryIO:
    """The job's spool file, in memory: the tests' uploads are small."""
    return io.BytesIO()


class World:
    """Upload sessions (``uploads``), the image service (``images``) and the worker
    (``processor``) on one set of fakes; ``jobs`` is the queue between them."""

    def __init__(
        self,
        *,
        max_file_size: int = 64 * MIB,
        session_ttl: int = 3600,
        processor: ImageProcessor | None = None,
        store_class: type[InMemoryUploadStore] = InMemoryUploadStore,
        dedupe: bool = False,
    ) -> None:
        self.clock = FixedClock(START)
        self.image_store = InMemoryImageStore()
        self.store = store_class(objects=self.image_store.objects)
        self.repository = InMemoryImageRepository()
        self.sessions = InMemoryUploadSessions()
        self.jobs = InMemoryJobQueue()
        self.images = ImageService(
            store=self.image_store,
            repository=self.repository,
            processor=processor or PillowImageProcessor(max_pixels=4_000_000, max_frames=10),
            cursors=CursorCodec(CURSOR_SECRET),
            limits=image_limits(Settings(max_file_size=64 * MIB, rendition_formats=("jpeg",))),
            jobs=self.jobs,
            clock=self.clock,
            dedupe=dedupe,
        )
        self.uploads = UploadService(
            publisher=self.images.publisher,
            store=self.store,
            sessions=self.sessions,
            jobs=self.jobs,
            limits=upload_limits(
                Settings(
                    max_file_size=max_file_size,
                    multipart_threshold=MIB,
                    upload_session_ttl=session_ttl,
                )
            ),
            clock=self.clock,
        )
        self.processor = JobProcessor(
            publisher=self.images.publisher,
            store=self.store,
            sessions=self.sessions,
            spool=_spool,
        )

    def open(self, data: bytes, caller: Caller = ALICE, **fields: object) -> Ticket:
        values: dict[str, object] = {
            "user_id": None,
            "filename": "cat.png",
            "content_type": "image/png",
            "size": len(data),
        }
        return self.uploads.open(caller, NewUpload(**(values | fields)))  # type: ignore[arg-type]

    def send(self, ticket: Ticket, data: bytes) -> list[tuple[int, str]]:
        """What the client does with the ticket; the ETags of the parts it sent."""
        session = ticket.session
        if session.multipart_id is None:
            self.store.objects[session.object_key] = data
            return []
        size = session.part_size
        return [
            (n, self.store.receive_part(session.multipart_id, n, data[(n - 1) * size : n * size]))
            for n in sorted(ticket.part_urls)
        ]

    def run_jobs(self, *, last_attempt: bool = False) -> int:
        """Every job sent so far, delivered once; how many ran."""
        return self.jobs.run_all(self.processor, last_attempt=last_attempt)

    def deliver(self, upload_id: str, *, attempt: int = 1, last_attempt: bool = False) -> None:
        """The upload's job, delivered (again) by the queue."""
        job = Job(JobKind.UPLOAD, upload_id)
        self.processor.run(Delivery(job=job, attempt=attempt, last_attempt=last_attempt))

    def session(self, upload_id: str) -> UploadSession:
        session = self.sessions.get(upload_id)
        assert session is not None, f"no session {upload_id}"
        return session

    def finish(
        self, upload_id: str, parts: list[tuple[int, str]] | None = None, caller: Caller = ALICE
    ) -> UploadSession:
        """Complete the upload, then let the worker run every job: the session as it ends."""
        self.uploads.complete(caller, upload_id, parts or [])
        self.run_jobs()
        return self.session(upload_id)

    def published(
        self, upload_id: str, parts: list[tuple[int, str]] | None = None, caller: Caller = ALICE
    ) -> Image:
        """Complete the upload and run the jobs: the image it made, READY."""
        session = self.finish(upload_id, parts, caller)
        assert session.status is SessionStatus.READY, (session.status, session.failure)
        return self.image_of(session)

    def image_of(self, session: UploadSession) -> Image:
        assert session.image_id is not None
        image = self.repository.get(session.image_id)
        assert image is not None
        assert image.status is ImageStatus.READY
        return image

    def listed(self) -> list[str]:
        return [i.image_id for i in self.repository.search(ImageQuery(), None).items]

    def originals(self) -> dict[str, bytes]:
        """The stored originals (renditions aside)."""
        return {k: v for k, v in self.store.objects.items() if k.startswith(ORIGINALS_PREFIX)}

    def leftovers(self) -> list[str]:
        """What an upload refused or abandoned must not leave: objects that belong to no READY
        image (incoming bytes, originals and renditions of nothing), multipart uploads, and
        sessions still OPEN or PROCESSING."""
        owned = set()
        for image in self.repository.images.values():
            if image.status is ImageStatus.READY:
                owned.add(image.object_key)
                owned.update(
                    rendition_key(image.image_id, r.size, r.format) for r in image.renditions
                )
        return (
            sorted(k for k in self.store.objects if k not in owned)
            + sorted(self.store.multiparts)
            + sorted(u for u, s in self.sessions.sessions.items() if not s.status.finished)
        )
