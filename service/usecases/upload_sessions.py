"""UploadService: upload sessions, where the client sends the bytes to S3 itself.

``open`` signs a presigned POST (up to ``multipart_threshold``) or starts a multipart upload
with presigned part URLs. ``complete`` checks what it can at once (the bytes arrived, every
part is there with the ETag the client names), marks the session PROCESSING with the id its
image will have, and sends the worker a job (``processing.py``), which checks the bytes,
publishes them and marks the session READY, or FAILED with a reason. ``complete`` answers at
once, whatever the size: the client then watches the session.

Sessions are private to their owner: someone else's session is "not found" (404), not 403 as
for images, because a session's existence is nobody else's business. A failure ``complete``
finds (nothing arrived yet, a part missing) leaves the session OPEN for a retry. A second
complete answers the session as it is, and sends the job again if it is still PROCESSING: a
job lost between the session's write and the queue is sent again, and a duplicate job makes
no second image.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import msgspec
from msgspec.structs import replace

from service.domain import rules
from service.domain.access import AccessPolicy
from service.domain.errors import (
    ImageConflict,
    ImageTooLarge,
    InvalidInput,
    UploadExpired,
    UploadIncomplete,
    UploadNotFound,
)
from service.domain.jobs import Job, JobKind
from service.domain.model import Caller, is_image_id, new_image_id, utc_now
from service.domain.sessions import (
    NewUpload,
    SessionStatus,
    Ticket,
    UploadedPart,
    UploadSession,
    part_size_for,
)
from service.ports import JobQueue, UploadSessionRepository, UploadStore
from service.usecases.publishing import Publisher

log = logging.getLogger(__name__)


TIMED_OUT = "The upload was not processed in time; upload it again"
# How long a job has before the sweep fails its session: longer than every delivery the queue
# gives it (Terraform's default: 5 deliveries, each hidden for 6 x 300 s).
PROCESSING_LIFETIME_SECONDS = 6 * 3600


def fail(
    session: UploadSession,
    reason: str,
    *,
    store: UploadStore,
    sessions: UploadSessionRepository,
) -> None:
    """Mark ``session`` FAILED with ``reason`` for its owner, then delete what arrived. A
    session that changed meanwhile (finished by another run of its job) is left as it is."""
    try:
        sessions.transition(session, session.with_status(SessionStatus.FAILED, failure=reason))
    except ImageConflict:
        # Still PROCESSING under a new image id (processing.py renews a stale one): fail that.
        current = sessions.get(session.upload_id)
        if current is None or current.status is not SessionStatus.PROCESSING:
            return
        session = current
        try:
            sessions.transition(session, session.with_status(SessionStatus.FAILED, failure=reason))
        except ImageConflict:
            return
    log.info("upload %s failed: %s", session.upload_id, reason)
    if session.multipart_id is not None:
        store.abort_multipart(session.object_key, session.multipart_id)
    delete_arrived(session, store)


def delete_arrived(session: UploadSession, store: UploadStore) -> None:
    """The bytes that arrived, and their copy without a location (a multipart upload's only)."""
    if session.multipart_id is not None:
        store.delete(session.scrubbed_key)
    store.delete(session.object_key)


class UploadLimits(msgspec.Struct, frozen=True):
    """How large an upload session may be, when it goes multipart, and how long it lives:
    settings, whose defaults ``service.settings`` spells."""

    max_file_size: int
    multipart_threshold: int
    session_ttl: int


class UploadService:
    def __init__(
        self,
        *,
        publisher: Publisher,
        store: UploadStore,
        sessions: UploadSessionRepository,
        jobs: JobQueue,
        limits: UploadLimits,
        access: AccessPolicy | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._publisher = publisher
        self._jobs = jobs
        self._store = store
        self._sessions = sessions
        self._limits = limits
        self._access = access or AccessPolicy()
        self._clock = clock

    def open(self, caller: Caller, new: NewUpload) -> Ticket:
        owner = self._access.owner_of_upload(caller, new.user_id)
        self._publisher.check_content_type(new.content_type)
        if new.size > self._limits.max_file_size:
            raise ImageTooLarge(
                f"The file is {new.size} bytes; the limit is {self._limits.max_file_size} bytes"
            )
        now = self._clock()
        upload_id = new_image_id(now)
        session = UploadSession(
            upload_id=upload_id,
            user_id=owner,
            filename=rules.filename(new.filename, fallback=upload_id),
            content_type=new.content_type,
            size=new.size,
            created_at=now,
            expires_at=now + timedelta(seconds=self._limits.session_ttl),
            sha256=new.sha256,
            description=new.description,
            tags=new.tags,
            metadata=dict(new.metadata),
        )
        if new.size <= self._limits.multipart_threshold:
            post = self._store.presigned_post(
                session.object_key,
                size=new.size,
                content_type=new.content_type,
                expires_in=self._limits.session_ttl,
            )
            self._sessions.add(session)
            return Ticket(session=session, post=post)
        multipart_id = self._store.start_multipart(
            session.object_key, content_type=new.content_type
        )
        session = replace(session, multipart_id=multipart_id, part_size=part_size_for(new.size))
        self._sessions.add(session)
        return Ticket(
            session=session, part_urls=self._sign(session, range(1, session.part_count + 1))
        )

    def status(self, caller: Caller, upload_id: str) -> tuple[UploadSession, list[UploadedPart]]:
        """The session and the parts S3 holds, so that an interrupted client resumes."""
        session = self._owned(caller, upload_id)
        if session.multipart_id is None or session.status is not SessionStatus.OPEN:
            return session, []
        return session, self._store.list_parts(session.object_key, session.multipart_id)

    def sign_parts(self, caller: Caller, upload_id: str, numbers: Sequence[int]) -> dict[int, str]:
        session = self._open(caller, upload_id)
        if session.multipart_id is None:
            raise InvalidInput("This upload is a single POST; it has no parts")
        wrong = [n for n in numbers if not 1 <= n <= session.part_count]
        if wrong or not numbers:
            raise InvalidInput(
                "Invalid part numbers", {"parts": [f"1 to {session.part_count}, at least one"]}
            )
        return self._sign(session, sorted(set(numbers)))

    def complete(
        self, caller: Caller, upload_id: str, parts: Sequence[tuple[int, str]] = ()
    ) -> UploadSession:
        """Hand the upload to the worker: the session, PROCESSING (or as it already is)."""
        session = self._owned(caller, upload_id)
        if session.status is SessionStatus.PROCESSING:
            self._jobs.send(Job(JobKind.UPLOAD, upload_id))
            return session
        if session.status is not SessionStatus.OPEN:
            return session
        self._check_not_expired(session)
        self._check_arrived(session, parts)
        now = self._clock()
        processing = session.with_status(
            SessionStatus.PROCESSING,
            image_id=new_image_id(now),
            parts=tuple(sorted(parts)),
            # A lifetime for the job, however late in the session it was completed.
            expires_at=now + timedelta(seconds=PROCESSING_LIFETIME_SECONDS),
        )
        try:
            started = self._sessions.transition(session, processing)
        except ImageConflict:
            return self._owned(caller, upload_id)
        try:
            self._jobs.send(Job(JobKind.UPLOAD, upload_id))
        except Exception:
            self._reopen(started)
            raise
        return started

    def abort(self, caller: Caller, upload_id: str) -> None:
        session = self._owned(caller, upload_id)
        if session.status is SessionStatus.PROCESSING:
            raise ImageConflict(f"Upload {upload_id} is being processed")
        if session.status is SessionStatus.OPEN:
            self._discard(session)

    def sweep(self, grace_seconds: int = 0) -> int:
        """Remove sessions that expired more than ``grace_seconds`` ago, with their bytes."""
        removed = 0
        for session in self._sessions.expired(self._clock() - timedelta(seconds=grace_seconds)):
            if session.status is SessionStatus.PROCESSING:
                fail(session, TIMED_OUT, store=self._store, sessions=self._sessions)
            else:
                self._discard(session)
            removed += 1
        return removed

    def _check_arrived(self, session: UploadSession, parts: Sequence[tuple[int, str]]) -> None:
        """What can be told at once: the bytes are there (each part, with the ETag named)."""
        if session.multipart_id is None:
            if self._store.version_of(session.object_key) is None:
                raise UploadIncomplete(
                    "Nothing has been uploaded yet: send the file, then complete"
                )
            return
        given = dict(parts)
        missing = sorted(set(range(1, session.part_count + 1)) - given.keys())
        if missing:
            raise UploadIncomplete(
                f"ETags missing for parts {missing[:10]}", {"parts": ["every part's ETag"]}
            )
        held = {
            part.number: part.etag
            for part in self._store.list_parts(session.object_key, session.multipart_id)
        }
        wrong = sorted(n for n, etag in given.items() if held.get(n) != etag)
        if wrong:
            raise UploadIncomplete(
                f"Parts {wrong[:10]} have not arrived, or not with the ETag given",
                {"parts": ["the ETag S3 answered for each part"]},
            )

    def _owned(self, caller: Caller, upload_id: str) -> UploadSession:
        self._access.check_signed_in(caller, "upload images")
        session = self._sessions.get(upload_id) if is_image_id(upload_id) else None
        if session is None or not self._access.owns(caller, session.user_id):
            raise UploadNotFound(upload_id)
        return session

    def _open(self, caller: Caller, upload_id: str) -> UploadSession:
        session = self._owned(caller, upload_id)
        if session.status is not SessionStatus.OPEN:
            raise ImageConflict(f"Upload {upload_id} is already {session.status.value.lower()}")
        self._check_not_expired(session)
        return session

    def _check_not_expired(self, session: UploadSession) -> None:
        if self._clock() >= session.expires_at:
            self._discard(session)
            raise UploadExpired(f"Upload {session.upload_id} expired; start a new one")

    def _sign(self, session: UploadSession, numbers: Sequence[int]) -> dict[int, str]:
        assert session.multipart_id is not None
        ttl = max(1, int((session.expires_at - self._clock()).total_seconds()))
        sizes = {number: session.part_length(number) for number in numbers}
        return self._store.part_urls(session.object_key, session.multipart_id, sizes, ttl)

    def _discard(self, session: UploadSession) -> None:
        if session.multipart_id is not None:
            self._store.abort_multipart(session.object_key, session.multipart_id)
        delete_arrived(session, self._store)
        self._sessions.remove(session.upload_id)

    def _reopen(self, session: UploadSession) -> None:
        reopened = session.with_status(SessionStatus.OPEN, image_id=None, parts=())
        self._quietly(lambda: self._sessions.transition(session, reopened))

    def _quietly(self, action: Callable[[], object]) -> bool:
        try:
            action()
        except Exception:
            log.warning("upload clean-up step failed; the sweeper will finish it")
            return False
        return True
