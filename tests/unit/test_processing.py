"""The worker's use case (service/usecases/processing.py) on the in-memory fakes and real Pillow:
UPLOAD jobs take a PROCESSING session to READY or FAILED, once however often they run; DERIVE
jobs make a posted image's placeholder and smallest rendition once."""

from __future__ import annotations

import copy
import io
from collections.abc import Callable
from typing import Any

import pytest

from service.domain.errors import StorageUnavailable
from service.domain.jobs import Delivery, Job, JobKind
from service.domain.model import Caller, Image, NewImage, new_image_id, rendition_key
from service.domain.sessions import INCOMING_PREFIX, MIB, SessionStatus
from service.usecases.processing import GAVE_UP
from tests.support.images import START, jpeg, png, png_of_size
from tests.support.upload_world import ALICE, World


class Boom(Exception):
    """A failure no code expects: the process dying there, as far as the job can tell."""


def fail_once(
    monkeypatch: pytest.MonkeyPatch,
    target: object,
    method: str,
    error: Exception,
    *,
    when: Callable[..., bool] = lambda *args, **kwargs: True,
) -> dict[str, int]:
    """``target.method`` raises ``error`` the first time ``when`` holds of its arguments, then
    works; how often it raised."""
    original: Callable[..., Any] = getattr(target, method)
    raised = {"n": 0}

    def once(*args: Any, **kwargs: Any) -> Any:
        if raised["n"] == 0 and when(*args, **kwargs):
            raised["n"] += 1
            raise error
        return original(*args, **kwargs)

    monkeypatch.setattr(target, method, once)
    return raised


def completed(world: World, data: bytes, **fields: Any) -> str:
    """An upload sent and completed (PROCESSING, its job sent and not run): its id."""
    ticket = world.open(data, **fields)
    parts = world.send(ticket, data)
    session = world.uploads.complete(ALICE, ticket.session.upload_id, parts)
    assert session.status is SessionStatus.PROCESSING
    return session.upload_id


def state(world: World) -> tuple[Any, ...]:
    """Everything a job could change."""
    return (
        dict(world.store.objects),
        copy.deepcopy(world.store.multiparts),
        dict(world.repository.images),
        dict(world.repository.claims),
        dict(world.sessions.sessions),
    )


def incoming(world: World) -> list[str]:
    return [key for key in world.store.objects if key.startswith(INCOMING_PREFIX)]


# --- UPLOAD: once, however often ---------------------------------------------------------------


def test_a_duplicate_delivery_publishes_one_image() -> None:
    world = World()
    upload_id = completed(world, png())
    world.uploads.complete(ALICE, upload_id)  # the job, sent again
    assert world.jobs.jobs == [Job(JobKind.UPLOAD, upload_id)] * 2

    assert world.run_jobs() == 2

    session = world.session(upload_id)
    assert session.status is SessionStatus.READY
    assert world.listed() == [session.image_id]
    assert len(world.originals()) == 1
    assert incoming(world) == []


def test_a_job_that_finds_its_image_published_only_finishes_the_session() -> None:
    # GIVEN a job that published, whose session is still PROCESSING (its run stopped there)
    world = World()
    upload_id = completed(world, png())
    world.run_jobs()
    session = world.session(upload_id)
    image = world.image_of(session)
    processing = session.with_status(SessionStatus.PROCESSING)
    world.sessions.sessions[upload_id] = processing
    world.store.objects[processing.object_key] = png()  # its bytes not deleted yet either

    # WHEN it is delivered again
    world.deliver(upload_id, attempt=2)

    # THEN the session is READY with the same image, which is as it was
    assert world.session(upload_id).status is SessionStatus.READY
    assert world.session(upload_id).image_id == image.image_id
    assert world.repository.images[image.image_id] == image
    assert world.listed() == [image.image_id]
    assert incoming(world) == []


@pytest.mark.parametrize("ending", ["READY", "FAILED", "missing", "not an id"])
def test_a_job_for_a_finished_or_missing_session_does_nothing(ending: str) -> None:
    world = World()
    good = completed(world, png(color="blue"))
    bad = completed(world, b"not an image at all")
    world.run_jobs()
    assert world.session(good).status is SessionStatus.READY
    assert world.session(bad).status is SessionStatus.FAILED
    upload_id = {
        "READY": good,
        "FAILED": bad,
        "missing": new_image_id(START),
        "not an id": "nope",
    }[ending]
    # what the job would find to act on, were it to act
    world.store.objects[f"{INCOMING_PREFIX}{good}"] = png()
    before = state(world)

    world.deliver(upload_id, attempt=2)

    assert state(world) == before


@pytest.mark.parametrize("duplicate_of", ["posted", "session"])
def test_the_users_same_bytes_make_the_session_ready_with_their_image_as_a_duplicate(
    duplicate_of: str,
) -> None:
    world = World(dedupe=True)
    data = png(color="green")
    if duplicate_of == "posted":
        new = NewImage(None, "a.png", declared_content_type=None)
        first = world.images.upload(ALICE, new, io.BytesIO(data)).image.image_id
    else:
        first = world.published(completed(world, data)).image_id
    upload_id = completed(world, data)

    world.run_jobs()

    session = world.session(upload_id)
    assert (session.status, session.image_id, session.duplicate) == (
        SessionStatus.READY,
        first,
        True,
    )
    assert world.listed() == [first]
    assert len(world.originals()) == 1
    assert incoming(world) == []


# --- UPLOAD: a run that dies ---------------------------------------------------------------------


def test_a_run_that_dies_before_the_session_is_ready_is_finished_by_the_next_delivery(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a job whose session cannot be made READY, once, after it published
    world = World()
    upload_id = completed(world, png())
    raised = fail_once(
        monkeypatch,
        world.sessions,
        "transition",
        Boom("the worker died"),
        when=lambda old, new: new.status is SessionStatus.READY,
    )

    # WHEN it runs, THEN the failure is the queue's (delivered again) and the session PROCESSING
    with pytest.raises(Boom):
        world.run_jobs()
    assert raised["n"] == 1
    session = world.session(upload_id)
    assert session.status is SessionStatus.PROCESSING
    assert world.listed() == [session.image_id]  # published, under the id complete chose

    # AND the next delivery makes it READY with the same image, and no second one
    world.deliver(upload_id, attempt=2)
    ready = world.session(upload_id)
    assert (ready.status, ready.image_id) == (SessionStatus.READY, session.image_id)
    assert world.listed() == [session.image_id]
    assert len(world.originals()) == 1
    assert incoming(world) == []


def test_a_run_that_dies_deleting_the_incoming_bytes_has_made_the_session_ready(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = World()
    upload_id = completed(world, png())
    raised = fail_once(monkeypatch, world.store, "delete", Boom("the worker died"))

    with pytest.raises(Boom):
        world.run_jobs()
    assert raised["n"] == 1
    session = world.session(upload_id)
    assert session.status is SessionStatus.READY

    # the next delivery finds it finished: one image; the bytes left are the lifecycle rule's
    world.deliver(upload_id, attempt=2)
    assert world.session(upload_id) == session
    assert world.listed() == [session.image_id]
    assert len(world.originals()) == 1


def test_a_publish_that_failed_once_publishes_under_a_new_id_on_the_next_delivery(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a job whose publish fails once (the table throttled): its id is tombstoned
    world = World()
    upload_id = completed(world, png())
    first_id = world.session(upload_id).image_id
    assert first_id is not None
    raised = fail_once(monkeypatch, world.repository, "publish", StorageUnavailable("throttled"))
    with pytest.raises(StorageUnavailable):
        world.run_jobs()
    assert raised["n"] == 1
    assert world.session(upload_id).status is SessionStatus.PROCESSING

    # WHEN it is delivered again
    world.deliver(upload_id, attempt=2)

    # THEN it is published, once, under an id no failed publish touched
    session = world.session(upload_id)
    assert session.status is SessionStatus.READY
    assert session.image_id != first_id
    assert world.listed() == [session.image_id]
    assert world.images.publisher.published(first_id) is None
    assert len(world.originals()) == 1
    assert incoming(world) == []


# --- UPLOAD: failures --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "fields", "failure"),
    [
        (png(), {"sha256": "0" * 64}, "not the declared one"),
        (b"not an image at all", {}, "not an image in a recognised format"),
        (png() + b"extra", {"size": len(png())}, "bytes arrived; the session declared"),
        (png_of_size(2 * MIB), {"sha256": "0" * 64}, "not the declared one"),
        (png_of_size(2 * MIB, b"not a chunk"), {}, "not an image in a recognised format"),
    ],
    ids=["sha256", "not-an-image", "size", "multipart-sha256", "multipart-not-an-image"],
)
def test_bytes_proven_wrong_fail_the_session_with_its_reason_and_are_deleted(
    data: bytes, fields: dict[str, object], failure: str
) -> None:
    world = World()
    aborted: list[str] = []
    abort = world.store.abort_multipart

    def recorded_abort(key: str, multipart_id: str) -> None:
        aborted.append(multipart_id)
        abort(key, multipart_id)

    world.store.abort_multipart = recorded_abort  # type: ignore[method-assign]
    upload_id = completed(world, data, **fields)
    session = world.session(upload_id)

    world.run_jobs()  # no exception: nothing for the queue to deliver again

    failed = world.session(upload_id)
    assert failed.status is SessionStatus.FAILED
    assert failed.failure is not None
    assert failure in failed.failure
    assert world.listed() == []
    assert world.leftovers() == []
    assert session.image_id is not None
    assert world.repository.get(session.image_id) is None
    assert aborted == ([session.multipart_id] if session.multipart_id else [])


def test_a_transient_failure_is_left_to_the_queue_and_the_last_delivery_gives_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a job whose bytes cannot be read: the bucket does not answer
    world = World()
    upload_id = completed(world, png())

    def unavailable(*args: object, **kwargs: object) -> object:
        raise StorageUnavailable("Could not read the upload (SlowDown)")

    monkeypatch.setattr(world.store, "stream", unavailable)

    # WHEN it runs, THEN it fails for the queue to deliver again, the session left PROCESSING
    # with its bytes
    with pytest.raises(StorageUnavailable):
        world.run_jobs()
    assert world.session(upload_id).status is SessionStatus.PROCESSING
    assert incoming(world) == [f"{INCOMING_PREFIX}{upload_id}"]

    # AND on its last delivery the session is FAILED, its bytes deleted, before the job goes
    # to the dead letters
    with pytest.raises(StorageUnavailable):
        world.deliver(upload_id, attempt=5, last_attempt=True)
    failed = world.session(upload_id)
    assert (failed.status, failed.failure) == (SessionStatus.FAILED, GAVE_UP)
    assert world.leftovers() == []
    assert world.listed() == []


# --- DERIVE -----------------------------------------------------------------------------------


def posted(world: World, data: bytes) -> Image:
    new = NewImage(None, "a.jpg", declared_content_type=None)
    return world.images.upload(Caller("alice"), new, io.BytesIO(data)).image


def test_derive_makes_the_placeholder_and_the_smallest_rendition_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = World()
    image = posted(world, jpeg((640, 480)))
    assert (image.blurhash, image.renditions) == (None, ())
    assert world.jobs.jobs == [Job(JobKind.DERIVE, image.image_id)]

    assert world.run_jobs() == 1

    derived = world.repository.images[image.image_id]
    assert derived.blurhash is not None
    assert derived.dominant_color is not None
    assert [(r.size, r.format) for r in derived.renditions] == [(256, "jpeg")]
    assert rendition_key(image.image_id, 256, "jpeg") in world.image_store.objects
    assert derived.version == image.version

    # delivered again: nothing is rendered or recorded twice
    calls: list[str] = []
    for target, method in ((world.image_store, "put_once"), (world.repository, "add_rendition")):
        monkeypatch.setattr(target, method, lambda *a, _m=method, **k: calls.append(_m))
    world.processor.run(Delivery(Job(JobKind.DERIVE, image.image_id), 2, last_attempt=False))
    assert calls == []
    assert world.repository.images[image.image_id] == derived


@pytest.mark.parametrize("gone", ["deleted", "never existed"])
def test_derive_does_nothing_for_an_image_that_is_not_there(gone: str) -> None:
    world = World()
    image_id = new_image_id(START)
    if gone == "deleted":
        image = posted(world, jpeg())
        world.images.delete(ALICE, image.image_id)
        image_id = image.image_id
    before = state(world)

    world.processor.run(Delivery(Job(JobKind.DERIVE, image_id), 1, last_attempt=False))

    assert state(world) == before
    assert not any(key.startswith("renditions/") for key in world.image_store.objects)


def test_a_post_whose_derive_job_cannot_be_sent_is_published_all_the_same() -> None:
    world = World()
    world.jobs.answering = False

    image = posted(world, jpeg())

    assert world.listed() == [image.image_id]
    assert world.jobs.jobs == []


def test_a_duplicate_post_sends_no_derive_job() -> None:
    world = World(dedupe=True)
    first = posted(world, jpeg())
    world.run_jobs()

    again = world.images.upload(
        ALICE, NewImage(None, "a.jpg", declared_content_type=None), io.BytesIO(jpeg())
    )

    assert (again.duplicate, again.image.image_id) == (True, first.image_id)
    assert world.jobs.jobs == []


def test_parts_thrown_away_after_complete_fail_the_session_at_once() -> None:
    # GIVEN a completed multipart upload whose parts S3 no longer holds (aborted meanwhile)
    world = World()
    upload_id = completed(world, png_of_size(2 * MIB))
    session = world.session(upload_id)
    assert session.multipart_id is not None
    world.store.abort_multipart(session.object_key, session.multipart_id)

    # WHEN its job runs, THEN no later delivery could cure it: FAILED with S3's reason, now
    world.run_jobs()

    failed = world.session(upload_id)
    assert failed.status is SessionStatus.FAILED
    assert failed.failure is not None
    assert "NoSuchUpload" in failed.failure
    assert world.listed() == []
