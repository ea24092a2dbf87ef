"""UploadService: upload sessions, where the client sends the bytes to S3 itself.

``open`` signs a presigned POST (up to ``multipart_threshold``) or starts a multipart upload
with presigned part URLs. ``complete`` then checks what arrived (size, format, SHA-256) and
publishes it through the publisher (``publishing.py``), the path ``POST /images`` takes: a
single POST is read once and published as its checked bytes; a multipart upload, too large to
hold, is checked from its header, read once as a stream (its SHA-256, and where its location
lies: it is then rewritten next to it, by the store) and copied under originals/. Every read
and copy is held to the version of the object found first (its ETag): what is checked is what
is published, and an object that changes meanwhile is refused (UploadChanged) and discarded.

Sessions are private to their owner: someone else's session is "not found" (404), not 403 as
for images, because a session's existence is nobody else's business (images are public to
read; sessions never are). A failure that shows the bytes are wrong discards them and the
session; one that a retry can cure (nothing arrived yet, a part missing, S3 unavailable) leaves
the session OPEN. A second complete answers the first one's image.
"""

from __future__ import annotations

import hashlib
import io
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
    InvalidImage,
    InvalidInput,
    LocationNotRemovable,
    UnsupportedImage,
    UploadExpired,
    UploadIncomplete,
    UploadNotFound,
    UploadRejected,
)
from service.domain.model import (
    Caller,
    Image,
    image_id_time,
    is_image_id,
    new_image_id,
    utc_now,
)
from service.domain.sessions import (
    HEADER_BYTES,
    NewUpload,
    SessionStatus,
    Ticket,
    UploadedPart,
    UploadSession,
    part_size_for,
)
from service.ports import UploadSessionRepository, UploadStore
from service.usecases.hashed_reads import Sha256Reader
from service.usecases.publishing import Draft, Published, Publisher

log = logging.getLogger(__name__)
# Failures that prove the bytes wrong: the upload is discarded rather than left to a retry.
_FATAL = (InvalidImage, UnsupportedImage, ImageTooLarge, UploadRejected, LocationNotRemovable)


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
        limits: UploadLimits,
        access: AccessPolicy | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._publisher = publisher
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
        if session.multipart_id is None or session.status is SessionStatus.DONE:
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
    ) -> Published:
        session = self._owned(caller, upload_id)
        if session.status is not SessionStatus.OPEN:
            return self._finished(session)
        self._check_not_expired(session)
        try:
            started = self._sessions.transition(
                session,
                session.with_status(SessionStatus.COMPLETING, image_id=new_image_id(self._clock())),
            )
        except ImageConflict:
            return self._finished(self._owned(caller, upload_id))
        try:
            published = self._publish(started, parts)
        except _FATAL:
            self._discard(started)
            raise
        except Exception:
            self._reopen(started)
            raise
        # The incoming copy goes first: should that fail, the session stays COMPLETING (a
        # second complete still answers the image) and the sweeper deletes it at expiry.
        if self._quietly(lambda: self._delete_arrived(started)):
            done = started.with_status(
                SessionStatus.DONE,
                image_id=published.image.image_id,
                duplicate=published.duplicate,
            )
            self._quietly(lambda: self._sessions.transition(started, done))
        return published

    def abort(self, caller: Caller, upload_id: str) -> None:
        session = self._owned(caller, upload_id)
        if session.status is SessionStatus.COMPLETING:
            raise ImageConflict(f"Upload {upload_id} is being completed")
        if session.status is SessionStatus.OPEN:
            self._discard(session)

    def sweep(self, grace_seconds: int = 0) -> int:
        """Remove sessions that expired more than ``grace_seconds`` ago, with their bytes."""
        removed = 0
        for session in self._sessions.expired(self._clock() - timedelta(seconds=grace_seconds)):
            self._discard(session)
            removed += 1
        return removed

    def _publish(self, session: UploadSession, parts: Sequence[tuple[int, str]]) -> Published:
        key = session.object_key
        if session.multipart_id is not None:
            given = {number for number, _ in parts}
            missing = sorted(set(range(1, session.part_count + 1)) - given)
            if missing:
                raise UploadIncomplete(
                    f"ETags missing for parts {missing[:10]}", {"parts": ["every part's ETag"]}
                )
            self._store.complete_multipart(key, session.multipart_id, parts)
        arrived = self._store.version_of(key)
        if arrived is None:
            raise UploadIncomplete("Nothing has been uploaded yet: send the file, then complete")
        size, etag = arrived.size, arrived.etag
        if size != session.size:
            raise UploadRejected(f"{size} bytes arrived; the session declared {session.size}")
        assert session.image_id is not None
        draft = Draft(
            image_id=session.image_id,
            user_id=session.user_id,
            created_at=image_id_time(session.image_id),
            original_filename=session.filename,
            description=session.description,
            tags=session.tags,
            metadata=dict(session.metadata),
        )
        if session.multipart_id is None:
            # At most the multipart threshold: read once, and what was read is what is checked
            # and stored, whatever lands under the incoming key meanwhile.
            data = self._store.read(key, etag=etag)
            self._check_sha256(session, hashlib.sha256(data).hexdigest())
            return self._publisher.publish_bytes(draft, io.BytesIO(data), session.content_type)
        info = self._publisher.check_header(
            self._store.read_header(key, HEADER_BYTES, etag=etag), session.content_type
        )
        with self._store.stream(key, etag=etag) as stream:
            read = Sha256Reader(stream)
            scrubbed = self._publisher.without_location(read)
            sha256 = read.sha256()
        self._check_sha256(session, sha256)
        if scrubbed is not None and scrubbed.removed:
            # Rewritten where it lies: the store copies the kept ranges itself.
            key = session.scrubbed_key
            etag = self._store.compose(
                session.object_key, key, scrubbed.pieces, content_type=info.content_type, etag=etag
            )
            size, sha256 = scrubbed.size, self._store.sha256_of(key, etag=etag)

        def copy_arrived(image: Image) -> None:
            self._store.copy(
                key, image.object_key, content_type=image.content_type, sha256=sha256, etag=etag
            )

        return self._publisher.publish_copy(
            draft, info, size=size, sha256=sha256, copy=copy_arrived
        )

    def _check_sha256(self, session: UploadSession, sha256: str) -> None:
        if session.sha256 is not None and sha256 != session.sha256:
            raise UploadRejected(f"The bytes' SHA-256 is {sha256}, not the declared one")

    def _finished(self, session: UploadSession) -> Published:
        """A complete that came second: the first one's image, once it is published."""
        image = self._publisher.published(session.image_id) if session.image_id else None
        if image is not None:
            return Published(image, duplicate=session.duplicate)
        raise ImageConflict(f"Upload {session.upload_id} is being completed; retry shortly")

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
        self._delete_arrived(session)
        self._sessions.remove(session.upload_id)

    def _delete_arrived(self, session: UploadSession) -> None:
        """The bytes that arrived, and their copy without a location if one was made."""
        if session.multipart_id is not None:
            self._store.delete(session.scrubbed_key)
        self._store.delete(session.object_key)

    def _reopen(self, session: UploadSession) -> None:
        reopened = session.with_status(SessionStatus.OPEN, image_id=None)
        self._quietly(lambda: self._sessions.transition(session, reopened))

    def _quietly(self, action: Callable[[], object]) -> bool:
        try:
            action()
        except Exception:
            log.warning("upload clean-up step failed; the sweeper will finish it")
            return False
        return True
