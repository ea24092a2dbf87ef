"""The worker's use case: one job at a time, safe to run more than once.

An UPLOAD job takes a PROCESSING session to READY or FAILED:

1. the multipart upload is completed (unless a run before did), the object's size checked;
2. the bytes are read once into a spool file (bounded memory), their SHA-256 taken on the
   way and checked against the declared one;
3. they are checked whole (format, decode within the worker's budgets, EXIF) and published
   with the publisher's one transaction: a single POST is put as its checked bytes, without
   its location; a multipart upload is rewritten where it lies without its location (the
   store composes it) and copied under originals/;
4. the placeholder and the smallest rendition are made from the spool file;
5. the session becomes READY, and the bytes that arrived are deleted.

The image's id was chosen when the session was completed, and publishing creates the image on
the condition that the id is new: a job run twice (a duplicate delivery, or a run after a
worker died mid-job) publishes one image, and a run that finds the image published only
finishes step 5. A failure that proves the bytes wrong makes the session FAILED with its reason
and deletes them; any other failure is left to the queue to deliver again, and on its last
delivery the session is FAILED too, before the job goes to the dead letters.

A DERIVE job makes the placeholder and smallest rendition of an image ``POST /images``
published, which a listing does not need at once.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import BinaryIO

from msgspec.structs import replace

from service.domain.errors import (
    ImageConflict,
    ImageTooLarge,
    InvalidImage,
    LocationNotRemovable,
    UnsupportedImage,
    UploadIncomplete,
    UploadRejected,
)
from service.domain.jobs import Delivery, JobKind
from service.domain.model import Image, image_id_time, is_image_id, new_image_id, utc_now
from service.domain.scrub import Kept, Piece
from service.domain.sessions import SessionStatus, UploadSession
from service.ports import UploadSessionRepository, UploadStore
from service.usecases.hashed_reads import Sha256Reader
from service.usecases.publishing import Draft, Published, Publisher
from service.usecases.upload_sessions import delete_arrived, fail

log = logging.getLogger(__name__)

# Failures that prove the bytes wrong, or gone (parts S3 no longer holds, or not with the ETags
# complete was given): no later delivery could cure them.
FATAL = (
    InvalidImage,
    UnsupportedImage,
    ImageTooLarge,
    UploadRejected,
    UploadIncomplete,
    LocationNotRemovable,
)
GAVE_UP = "The upload could not be processed; upload it again"
_CHUNK = 1024 * 1024


class JobProcessor:
    def __init__(
        self,
        *,
        publisher: Publisher,
        store: UploadStore,
        sessions: UploadSessionRepository,
        fresh_id_seconds: int | None = None,
        clock: Callable[[], datetime] = utc_now,
        spool: Callable[[], BinaryIO] = tempfile.TemporaryFile,
    ) -> None:
        """``fresh_id_seconds``: how old an image id may be when its image is published. The
        sweep takes an object under ``originals/`` older than its grace and without metadata
        for a crash's leftover, deletes it and tombstones its id: a job run again after a long
        while publishes under a new id rather than into a tombstone. None: ids never age."""
        self._publisher = publisher
        self._store = store
        self._sessions = sessions
        self._fresh_id_seconds = fresh_id_seconds
        self._clock = clock
        self._spool = spool

    def run(self, delivery: Delivery) -> None:
        """Run one job; an exception means it should be delivered again."""
        job = delivery.job
        if not is_image_id(job.subject):
            log.warning("job %s names no image or upload id; dropped", job)
        elif job.kind is JobKind.UPLOAD:
            self._process_upload(job.subject, last_attempt=delivery.last_attempt)
        else:
            self._derive(self._publisher.published(job.subject))

    def _process_upload(self, upload_id: str, *, last_attempt: bool) -> None:
        session = self._sessions.get(upload_id)
        if session is None or session.status is not SessionStatus.PROCESSING:
            # Delivered again after it finished, or for a session gone since: nothing to do.
            log.info("upload %s is not PROCESSING; job dropped", upload_id)
            return
        try:
            session, published = self._publish(session)
        except FATAL as refused:
            self._fail(session, refused.message)
            return
        except Exception:
            if last_attempt:
                self._fail(session, GAVE_UP)
            else:
                self._renew_quietly(session)
            raise
        ready = session.with_status(
            SessionStatus.READY, image_id=published.image.image_id, duplicate=published.duplicate
        )
        try:
            self._sessions.transition(session, ready)
        except ImageConflict:
            log.info("upload %s was finished by another run of its job", upload_id)
            return
        delete_arrived(session, self._store)

    def _fail(self, session: UploadSession, reason: str) -> None:
        fail(session, reason, store=self._store, sessions=self._sessions)

    def _publish(self, session: UploadSession) -> tuple[UploadSession, Published]:
        """The session as it now stands (its image id may be new), and what was published."""
        assert session.image_id is not None
        done = self._publisher.published(session.image_id)
        if done is not None:
            # A run before published it and died after: what it may not have made yet.
            self._derive(done)
            return session, Published(done)
        key = session.object_key
        if session.multipart_id is not None and self._store.version_of(key) is None:
            self._store.complete_multipart(key, session.multipart_id, session.parts)
        arrived = self._store.version_of(key)
        if arrived is None:
            raise UploadRejected("Nothing arrived for this upload")
        if arrived.size != session.size:
            raise UploadRejected(
                f"{arrived.size} bytes arrived; the session declared {session.size}"
            )
        draft = Draft(
            image_id=session.image_id,
            user_id=session.user_id,
            created_at=image_id_time(session.image_id),
            original_filename=session.filename,
            description=session.description,
            tags=session.tags,
            metadata=dict(session.metadata),
        )
        with self._spool() as local:
            sha256 = self._spool_from(key, arrived.etag, local)
            if session.sha256 is not None and sha256 != session.sha256:
                raise UploadRejected(f"The bytes' SHA-256 is {sha256}, not the declared one")
            session, draft = self._fresh(session, draft)
            local.seek(0)
            if session.multipart_id is None:
                published = self._publisher.publish_bytes(draft, local, session.content_type)
            else:
                published = self._publish_in_place(session, draft, local, arrived.etag, sha256)
            if not published.duplicate:
                local.seek(0)
                self._derive_quietly(published.image, local)
            return session, published

    def _fresh(self, session: UploadSession, draft: Draft) -> tuple[UploadSession, Draft]:
        """``draft``, or, when its id is too old to publish under, the draft under the new id
        the session now names."""
        limit = self._fresh_id_seconds
        if limit is None or (self._clock() - draft.created_at).total_seconds() <= limit:
            return session, draft
        renewed = self._renew(session)
        if renewed.image_id == session.image_id:
            raise ImageConflict(f"Upload {session.upload_id} was published by another run")
        assert renewed.image_id is not None
        created_at = image_id_time(renewed.image_id)
        return renewed, replace(draft, image_id=renewed.image_id, created_at=created_at)

    def _renew(self, session: UploadSession) -> UploadSession:
        """The session under a new image id, once nothing can ever be published under its
        current one (the id retired: a run that failed to publish tombstoned it, and so does
        the sweep); the session as it is when its image was published meanwhile. A concurrent
        run that renewed it first: ImageConflict."""
        assert session.image_id is not None
        if not self._publisher.retire(session.image_id):
            return session
        renewed = session.with_status(
            SessionStatus.PROCESSING, image_id=new_image_id(self._clock())
        )
        self._sessions.transition(session, renewed)
        log.info("upload %s will publish under a new id, %s", session.upload_id, renewed.image_id)
        return renewed

    def _renew_quietly(self, session: UploadSession) -> None:
        """After a failed run: the next one publishes under an id no failed publish
        tombstoned. Best effort: a next run that finds the id tombstoned renews it then."""
        try:
            self._renew(session)
        except Exception:
            log.warning("could not renew the image id of upload %s", session.upload_id)

    def _publish_in_place(
        self, session: UploadSession, draft: Draft, local: BinaryIO, etag: str, sha256: str
    ) -> Published:
        """Too large to send again: rewritten without its location by the store, from the
        object that arrived, then copied."""
        info = self._publisher.check_bytes(local, session.content_type)
        scrubbed = self._publisher.without_location(local)
        source, size = session.object_key, session.size
        if scrubbed is not None and scrubbed.removed:
            source = session.scrubbed_key
            etag = self._store.compose(
                session.object_key,
                source,
                scrubbed.pieces,
                content_type=info.content_type,
                etag=etag,
            )
            size, sha256 = scrubbed.size, _sha256_of_pieces(local, scrubbed.pieces)

        def copy(image: Image) -> None:
            self._store.copy(
                source, image.object_key, content_type=image.content_type, sha256=sha256, etag=etag
            )

        return self._publisher.publish_copy(draft, info, size=size, sha256=sha256, copy=copy)

    def _derive(self, image: Image | None) -> None:
        """What ``derive`` makes of a published image, from its original streamed to the spool:
        nothing for an image gone, or whose derived data is made."""
        if image is None or image.derived:
            return
        stored = self._store.version_of(image.object_key)
        if stored is None:
            return
        with self._spool() as local:
            self._spool_from(image.object_key, stored.etag, local)
            local.seek(0)
            self._derive_quietly(image, local)

    def _spool_from(self, key: str, etag: str, local: BinaryIO) -> str:
        """The object at ``key`` (that version of it) copied into ``local``: its SHA-256."""
        with self._store.stream(key, etag=etag) as stream:
            reader = Sha256Reader(stream)
            while chunk := reader.read(_CHUNK):
                local.write(chunk)
            return reader.sha256()

    def _derive_quietly(self, image: Image, body: BinaryIO) -> None:
        """Derived data: an image deleted or changed meanwhile keeps none (made on request)."""
        try:
            self._publisher.derive(image, body)
        except ImageConflict:
            log.info("image %s changed while its placeholder was made; skipped", image.image_id)


def _sha256_of_pieces(local: BinaryIO, pieces: Sequence[Piece]) -> str:
    """The SHA-256 of the bytes ``pieces`` make of the file in ``local``."""
    digest = hashlib.sha256()
    for piece in pieces:
        if not isinstance(piece, Kept):
            digest.update(piece.data)
            continue
        local.seek(piece.start)
        left = piece.size
        while left > 0:
            chunk = local.read(min(_CHUNK, left))
            if not chunk:
                raise UploadRejected("The upload changed while it was read")
            digest.update(chunk)
            left -= len(chunk)
    return digest.hexdigest()
