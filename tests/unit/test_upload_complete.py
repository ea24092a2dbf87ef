"""UploadService.complete, abort and sweep under the worker, on the in-memory fakes: complete
checks what it can at once, makes the session PROCESSING and sends its job (again, while it is
PROCESSING); abort cannot take a session being processed; the sweep fails one that expired."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.domain.errors import ImageConflict, StorageUnavailable, UploadIncomplete
from service.domain.jobs import Job, JobKind
from service.domain.model import image_id_time, is_image_id
from service.domain.sessions import INCOMING_PREFIX, MIB, SessionStatus
from service.usecases.upload_sessions import PROCESSING_LIFETIME_SECONDS, TIMED_OUT
from tests.support.images import png, png_of_size
from tests.support.upload_world import ALICE, World

TTL = 600


def sent(world: World, data: bytes) -> tuple[str, list[tuple[int, str]]]:
    ticket = world.open(data)
    return ticket.session.upload_id, world.send(ticket, data)


def test_complete_makes_the_session_processing_under_a_new_image_id_and_sends_its_job() -> None:
    world = World(session_ttl=TTL)
    upload_id, parts = sent(world, png_of_size(9 * MIB))
    opened = world.session(upload_id)
    now = world.clock.advance(TTL - 1)  # late in the session's life

    session = world.uploads.complete(ALICE, upload_id, list(reversed(parts)))

    assert session == world.session(upload_id)
    assert session.status is SessionStatus.PROCESSING
    assert session.image_id is not None
    assert is_image_id(session.image_id)
    assert image_id_time(session.image_id) == now
    assert session.parts == tuple(sorted(parts))
    # a lifetime of its own for the job, however late in the session it was completed
    assert session.expires_at == now + timedelta(seconds=PROCESSING_LIFETIME_SECONDS)
    assert session.expires_at > opened.expires_at
    assert world.jobs.jobs == [Job(JobKind.UPLOAD, upload_id)]
    assert world.listed() == []  # nothing published before the job runs


@pytest.mark.parametrize("fault", ["wrong-etag", "missing-part", "unknown-part"])
def test_complete_with_parts_s3_does_not_hold_is_incomplete_and_leaves_the_session_open(
    fault: str,
) -> None:
    world = World()
    upload_id, parts = sent(world, png_of_size(9 * MIB))
    assert len(parts) == 2
    given = {
        "wrong-etag": [parts[0], (2, '"0123456789abcdef0123456789abcdef"')],
        "missing-part": parts[:1],
        "unknown-part": [*parts, (3, parts[0][1])],
    }[fault]
    before = world.session(upload_id)

    with pytest.raises(UploadIncomplete):
        world.uploads.complete(ALICE, upload_id, given)

    assert world.session(upload_id) == before
    assert before.status is SessionStatus.OPEN
    assert world.jobs.jobs == []
    # the right ETags still complete it
    assert world.uploads.complete(ALICE, upload_id, parts).status is SessionStatus.PROCESSING


def test_complete_of_a_part_whose_etag_changed_since_is_incomplete() -> None:
    # GIVEN a part sent again with other bytes after the client kept its first ETag
    world = World()
    data = png_of_size(9 * MIB)
    upload_id, parts = sent(world, data)
    multipart_id = world.session(upload_id).multipart_id
    assert multipart_id is not None
    world.store.receive_part(multipart_id, 1, bytes(8 * MIB))

    with pytest.raises(UploadIncomplete, match=r"Parts \[1\]"):
        world.uploads.complete(ALICE, upload_id, parts)

    assert world.session(upload_id).status is SessionStatus.OPEN


def test_complete_of_a_processing_session_sends_its_job_again_and_changes_nothing() -> None:
    world = World()
    upload_id, _ = sent(world, png())
    first = world.uploads.complete(ALICE, upload_id)
    world.clock.advance(30)

    again = world.uploads.complete(ALICE, upload_id)

    assert again == first == world.session(upload_id)
    assert world.jobs.jobs == [Job(JobKind.UPLOAD, upload_id)] * 2


def test_a_send_that_fails_reopens_the_session_for_a_retry() -> None:
    world = World()
    upload_id, _ = sent(world, png())
    world.jobs.answering = False

    with pytest.raises(StorageUnavailable):
        world.uploads.complete(ALICE, upload_id)

    reopened = world.session(upload_id)
    assert (reopened.status, reopened.image_id, reopened.parts) == (SessionStatus.OPEN, None, ())
    world.jobs.answering = True
    assert world.uploads.complete(ALICE, upload_id).status is SessionStatus.PROCESSING
    assert world.jobs.jobs == [Job(JobKind.UPLOAD, upload_id)]


@pytest.mark.parametrize("ending", [SessionStatus.READY, SessionStatus.FAILED])
def test_complete_of_a_finished_session_answers_it_and_sends_nothing(
    ending: SessionStatus,
) -> None:
    world = World()
    upload_id, _ = sent(world, png() if ending is SessionStatus.READY else b"not an image")
    finished = world.finish(upload_id)
    assert finished.status is ending

    assert world.uploads.complete(ALICE, upload_id) == finished
    assert world.jobs.jobs == []


def test_abort_of_a_processing_session_is_a_conflict() -> None:
    world = World()
    upload_id, _ = sent(world, png())
    processing = world.uploads.complete(ALICE, upload_id)

    with pytest.raises(ImageConflict):
        world.uploads.abort(ALICE, upload_id)

    assert world.session(upload_id) == processing
    assert f"{INCOMING_PREFIX}{upload_id}" in world.store.objects
    # and its job still finishes it
    world.run_jobs()
    assert world.session(upload_id).status is SessionStatus.READY


def test_the_sweep_fails_an_expired_processing_session_and_deletes_its_bytes() -> None:
    # GIVEN a multipart session and a single-POST one completed, whose jobs never ran
    world = World(session_ttl=TTL)
    large, large_parts = sent(world, png_of_size(9 * MIB))
    small, _ = sent(world, png())
    multipart_id = world.session(large).multipart_id
    world.uploads.complete(ALICE, large, large_parts)
    world.uploads.complete(ALICE, small)
    assert world.uploads.sweep() == 0  # not expired yet: left to their jobs

    world.clock.advance(TTL + 1)
    assert world.uploads.sweep() == 0  # the session's lifetime is not the job's

    # WHEN the sweep runs after the job's lifetime
    world.clock.advance(PROCESSING_LIFETIME_SECONDS)
    assert world.uploads.sweep() == 2

    # THEN both are FAILED for their owner, their bytes and parts gone
    for upload_id in (large, small):
        failed = world.session(upload_id)
        assert (failed.status, failed.failure) == (SessionStatus.FAILED, TIMED_OUT)
    assert multipart_id not in world.store.multiparts
    assert world.leftovers() == []
    # AND a late delivery of their jobs does nothing; a later sweep leaves them be
    world.run_jobs()
    assert world.listed() == []
    assert world.uploads.sweep() == 0
    assert world.session(small).status is SessionStatus.FAILED
