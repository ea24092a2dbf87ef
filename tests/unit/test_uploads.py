"""UploadService on the in-memory fakes: sessions, the checks of complete, the job the worker
runs for it (tests/support/upload_world.py), clean-up."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from service.adapters.pillow_processor import PillowImageProcessor
from service.domain.errors import (
    ImageTooLarge,
    UploadExpired,
    UploadIncomplete,
    UploadNotFound,
)
from service.domain.model import ImageStatus, NewImage, rendition_key, rendition_prefix
from service.domain.sessions import INCOMING_PREFIX, MIB, SessionStatus, Ticket
from service.ports import Readable
from tests.support.fakes import InMemoryUploadStore
from tests.support.images import (
    has_gps,
    jpeg,
    png,
    png_chunk,
    png_of_size,
    scan_data,
    sideways_jpeg,
)
from tests.support.located_images import tiff_block
from tests.support.upload_world import ALICE, BOB, World

__all__ = ["ALICE", "BOB", "World"]  # imported by the other unit tests of uploads


def test_small_upload_is_a_post_then_an_image_under_originals() -> None:
    world = World()
    data = png()
    ticket = world.open(data, description="a cat", tags=("cat",))
    assert ticket.post is not None
    assert ticket.post.fields["key"] == ticket.session.object_key
    world.send(ticket, data)
    image = world.published(ticket.session.upload_id)
    assert image.status is ImageStatus.READY
    assert (image.user_id, image.tags, image.size_bytes) == ("alice", ("cat",), len(data))
    assert image.sha256 == hashlib.sha256(data).hexdigest()
    assert world.originals() == {image.object_key: data}
    assert world.listed() == [image.image_id]
    assert world.leftovers() == []  # the incoming copy is gone


def test_a_posted_upload_is_read_and_stored_as_post_images_stores_it() -> None:
    """GPS removed from the stored original (losslessly), EXIF, location and the upright size
    read: what the same bytes get through POST /images."""
    world = World()
    data = sideways_jpeg()
    ticket = world.open(data, filename="trip.jpg", content_type="image/jpeg")
    world.send(ticket, data)

    image = world.published(ticket.session.upload_id)
    direct = world.images.upload(
        BOB, NewImage(None, "trip.jpg", declared_content_type=None), io.BytesIO(data)
    ).image

    stored = world.image_store.objects[image.object_key]
    assert not has_gps(stored)
    assert scan_data(stored) == scan_data(data)  # only the EXIF block was rewritten
    assert stored == world.image_store.objects[direct.object_key]
    assert (image.size_bytes, image.sha256) == (len(stored), hashlib.sha256(stored).hexdigest())
    described = ("width", "height", "pixel_width", "pixel_height", "exif", "location")
    assert {name: getattr(image, name) for name in described} == {
        name: getattr(direct, name) for name in described
    }
    assert (image.width, image.height, image.location) == (300, 600, direct.location)
    assert image.location is not None
    assert ticket.session.object_key not in world.store.objects  # the incoming copy is gone


class OverwrittenAfterRead(InMemoryUploadStore):
    """The uploader overwrites the incoming key (its presigned POST is still valid) right
    after the worker has read what arrived."""

    @contextmanager
    def stream(self, key: str, *, etag: str) -> Iterator[Readable]:
        with super().stream(key, etag=etag) as body:
            yield body
        self.objects[key] = b"<html>not the checked bytes</html>"


def test_a_posted_upload_stores_the_bytes_it_checked_whatever_lands_after() -> None:
    # GIVEN a single-POST session whose bytes are replaced between the check and the store
    world = World(store_class=OverwrittenAfterRead)
    data = png()
    ticket = world.open(data)
    world.send(ticket, data)

    # WHEN it completes and the worker runs its job
    image = world.published(ticket.session.upload_id)

    # THEN the stored original is what was checked, and its record describes it
    assert world.image_store.objects[image.object_key] == data
    assert image.sha256 == hashlib.sha256(data).hexdigest()


class CountingProcessor:
    """Pillow, counting how often the bytes of an upload are parsed."""

    def __init__(self) -> None:
        self.pillow = PillowImageProcessor(max_pixels=4_000_000, max_frames=10)
        self.inspections = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.pillow, name)

    def inspect(self, body: io.BytesIO, *, accepted: tuple[str, ...]) -> object:
        self.inspections += 1
        return self.pillow.inspect(body, accepted=accepted)

    def inspect_header(self, header: io.BytesIO) -> object:
        self.inspections += 1
        return self.pillow.inspect_header(header)


def test_a_completed_upload_is_parsed_once() -> None:
    for data, multipart in ((png(), False), (png_of_size(2 * MIB), True)):
        processor = CountingProcessor()
        world = World(processor=processor)  # type: ignore[arg-type]
        ticket = world.open(data)
        parts = world.send(ticket, data)

        world.published(ticket.session.upload_id, parts)

        assert processor.inspections == 1, f"multipart={multipart}"


def test_every_upload_gets_a_placeholder_and_its_smallest_rendition_from_the_worker() -> None:
    world = World()
    small = png(color="green")
    posted = world.open(small)
    world.send(posted, small)
    large = png_of_size(2 * MIB)
    multipart = world.open(large)
    parts = world.send(multipart, large)

    for image in (
        world.published(posted.session.upload_id),
        world.published(multipart.session.upload_id, parts),
    ):
        assert image.blurhash
        assert image.dominant_color is not None
        assert [r.size for r in image.renditions] == [256]
        assert rendition_key(image.image_id, 256, "jpeg") in world.image_store.objects
    assert world.image_of(world.session(posted.session.upload_id)).dominant_color in (
        "#008000",
        "#008001",  # JPEG rounding
    )


def test_completing_twice_makes_one_image_and_then_answers_it() -> None:
    world = World()
    data = png()
    ticket = world.open(data)
    world.send(ticket, data)
    upload_id = ticket.session.upload_id

    first = world.uploads.complete(ALICE, upload_id)
    second = world.uploads.complete(ALICE, upload_id)  # PROCESSING: the job is sent again
    assert (first.status, second.status) == (SessionStatus.PROCESSING, SessionStatus.PROCESSING)
    assert second.image_id == first.image_id
    assert world.run_jobs() == 2

    ready = world.session(upload_id)
    assert ready.status is SessionStatus.READY
    assert world.listed() == [first.image_id]
    third = world.uploads.complete(ALICE, upload_id)
    assert (third.status, third.image_id) == (SessionStatus.READY, first.image_id)
    assert world.jobs.jobs == []  # a finished session sends no job


@pytest.mark.parametrize(
    ("sent", "fields", "failure"),
    [
        (png() + b"extra", {"size": len(png())}, "bytes arrived; the session declared"),
        (b"not an image at all", {}, "not an image in a recognised format"),
        (jpeg(), {}, "declared as image/png but its content is image/jpeg"),
        (png(), {"sha256": "0" * 64}, "SHA-256 is [0-9a-f]{64}, not the declared one"),
    ],
    ids=["size", "garbage", "type", "sha256"],
)
def test_wrong_bytes_fail_the_session_and_nothing_is_left(
    sent: bytes, fields: dict[str, object], failure: str
) -> None:
    world = World()
    ticket = world.open(sent, ALICE, **fields)
    world.send(ticket, sent)

    session = world.finish(ticket.session.upload_id)

    assert session.status is SessionStatus.FAILED
    assert session.failure is not None
    assert re.search(failure, session.failure, re.IGNORECASE), session.failure
    assert world.leftovers() == []
    assert world.listed() == []
    # a later complete answers how it ended, and sends nothing
    assert world.uploads.complete(ALICE, ticket.session.upload_id) == session
    assert world.jobs.jobs == []


def test_a_declared_size_over_the_limit_is_refused_before_signing() -> None:
    world = World(max_file_size=1000)
    with pytest.raises(ImageTooLarge):
        world.open(png(), size=1001)
    assert world.leftovers() == []


def test_someone_elses_session_is_not_found() -> None:
    world = World()
    ticket = world.open(png())
    world.send(ticket, png())
    for call in (
        lambda: world.uploads.complete(BOB, ticket.session.upload_id),
        lambda: world.uploads.status(BOB, ticket.session.upload_id),
        lambda: world.uploads.abort(BOB, ticket.session.upload_id),
    ):
        with pytest.raises(UploadNotFound):
            call()
    assert world.jobs.jobs == []
    assert world.published(ticket.session.upload_id).user_id == "alice"


def test_an_expired_session_is_gone_with_its_bytes() -> None:
    world = World(session_ttl=60)
    ticket = world.open(png())
    world.send(ticket, png())
    world.clock.advance(61)
    with pytest.raises(UploadExpired):
        world.uploads.complete(ALICE, ticket.session.upload_id)
    assert world.leftovers() == []
    assert world.jobs.jobs == []


def test_complete_before_the_bytes_arrive_leaves_the_session_open() -> None:
    world = World()
    ticket = world.open(png())
    with pytest.raises(UploadIncomplete):
        world.uploads.complete(ALICE, ticket.session.upload_id)
    assert world.session(ticket.session.upload_id).status is SessionStatus.OPEN
    assert world.jobs.jobs == []
    world.send(ticket, png())
    assert world.published(ticket.session.upload_id)


def test_a_multipart_upload_resumes_after_an_interruption() -> None:
    world = World()
    data = png_of_size(17 * MIB)
    ticket = world.open(data)
    session = ticket.session
    assert ticket.post is None
    assert sorted(ticket.part_urls) == [1, 2, 3]
    assert session.part_size == 8 * MIB
    first = world.send(Ticket(session, part_urls={1: ticket.part_urls[1]}), data)
    _, parts = world.uploads.status(ALICE, session.upload_id)
    assert [(p.number, p.etag) for p in parts] == first
    resigned = world.uploads.sign_parts(ALICE, session.upload_id, [2, 3])
    rest = world.send(Ticket(session, part_urls=resigned), data)
    with pytest.raises(UploadIncomplete):
        world.uploads.complete(ALICE, session.upload_id, rest)  # part 1's ETag left out
    image = world.published(session.upload_id, first + rest)
    assert world.originals() == {image.object_key: data}
    assert image.size_bytes == len(data)
    assert world.leftovers() == []


def test_abort_discards_the_session_and_its_parts() -> None:
    world = World()
    data = png_of_size(9 * MIB)
    ticket = world.open(data)
    world.send(ticket, data)
    world.uploads.abort(ALICE, ticket.session.upload_id)
    assert world.leftovers() == []
    assert world.sessions.sessions == {}


def test_the_sweeper_removes_abandoned_sessions() -> None:
    world = World(session_ttl=60)
    small, large = png(), png_of_size(9 * MIB)
    world.send(world.open(small), small)
    world.send(world.open(large), large)
    assert world.uploads.sweep() == 0
    world.clock.advance(61)
    assert world.uploads.sweep() == 2
    assert world.leftovers() == []
    assert world.sessions.sessions == {}


class Boom(Exception):
    pass


# Every step of a multipart upload's job whose store or table call can fail, by owner.
STEPS = [
    "complete_multipart",
    "version_of",
    "stream",
    "compose",
    "copy",
    # A failed publish tombstones the id: the next delivery publishes under a new one.
    "publish",
    "put_once",
    "add_rendition",
    "transition",
    "delete",
]


@pytest.mark.parametrize("step", STEPS)
def test_a_fault_at_any_step_of_the_job_shows_no_broken_image_and_the_next_delivery_ends_it(
    step: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a completed multipart upload with a location (rewritten: every step runs)
    world = World(session_ttl=60)
    data = png_of_size(2 * MIB, png_chunk(b"eXIf", tiff_block()))
    ticket = world.open(data)
    parts = world.send(ticket, data)
    upload_id = ticket.session.upload_id
    world.uploads.complete(ALICE, upload_id, parts)
    owners = {
        "publish": world.repository,
        "add_rendition": world.repository,
        "put_once": world.image_store,
        "transition": world.sessions,
    }
    target: object = owners.get(step, world.store)
    original: Callable[..., object] = getattr(target, step)
    calls = {"n": 0}

    def failing_once(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 1:
            raise Boom(step)
        return original(*args, **kwargs)

    monkeypatch.setattr(target, step, failing_once)

    # WHEN its job fails at ``step`` (the queue will deliver it again)
    with pytest.raises(Boom):
        world.run_jobs()

    # THEN whatever is listed is whole, without its location
    assert calls["n"] == 1, f"the job never reached {step}"
    for image_id in world.listed():
        image = world.repository.get(image_id)
        assert image is not None
        assert image.status is ImageStatus.READY
        stored = world.image_store.objects[image.object_key]
        assert (len(stored), hashlib.sha256(stored).hexdigest()) == (image.size_bytes, image.sha256)
        assert not has_gps(stored)

    # AND the next delivery ends the session READY with one image, the chosen one
    world.deliver(upload_id, attempt=2)
    session = world.session(upload_id)
    assert session.status is SessionStatus.READY
    assert world.listed() == [session.image_id]
    image = world.image_of(session)
    # with its placeholder and smallest rendition, however late in the first run it failed
    assert image.blurhash is not None
    assert [r.size for r in image.renditions] == [256]
    stored = world.image_store.objects[image.object_key]
    assert (len(stored), hashlib.sha256(stored).hexdigest()) == (image.size_bytes, image.sha256)
    assert not has_gps(stored)
    # nothing is left but, after a delete that failed once the session was READY (nothing
    # delivers its job again), the incoming bytes for the bucket's lifecycle rule; and a
    # rendition stored but not recorded, which its first request records
    left = [k for k in world.leftovers() if not k.startswith(rendition_prefix(image.image_id))]
    if step == "delete":
        assert left
        assert all(key.startswith(INCOMING_PREFIX) for key in left), left
    else:
        assert left == []
    assert world.store.multiparts == {}
