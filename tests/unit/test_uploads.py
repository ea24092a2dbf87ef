"""UploadService on the in-memory fakes: sessions, checks on complete, clean-up."""

from __future__ import annotations

import contextlib
import hashlib
import io
from collections.abc import Callable

import pytest

from service.adapters.pillow_processor import PillowImageProcessor
from service.bootstrap import image_limits, upload_limits
from service.domain.cursors import CursorCodec
from service.domain.errors import (
    ImageConflict,
    ImageTooLarge,
    InvalidImage,
    UnsupportedImage,
    UploadExpired,
    UploadIncomplete,
    UploadNotFound,
    UploadRejected,
)
from service.domain.model import Caller, ImageQuery, ImageStatus, NewImage
from service.domain.sessions import MIB, NewUpload, SessionStatus, Ticket
from service.ports import ImageProcessor
from service.settings import Settings
from service.usecases.images import ImageService
from service.usecases.upload_sessions import UploadService
from tests.support.aws import CURSOR_SECRET
from tests.support.fakes import (
    FixedClock,
    InMemoryImageRepository,
    InMemoryImageStore,
    InMemoryUploadSessions,
    InMemoryUploadStore,
)
from tests.support.images import (
    START,
    has_gps,
    jpeg,
    png,
    png_chunk,
    png_of_size,
    scan_data,
    sideways_jpeg,
)
from tests.support.located_images import tiff_block

ALICE = Caller(user_id="alice")
BOB = Caller(user_id="bob")


class World:
    def __init__(
        self,
        *,
        max_file_size: int = 64 * MIB,
        session_ttl: int = 3600,
        processor: ImageProcessor | None = None,
        store_class: type[InMemoryUploadStore] = InMemoryUploadStore,
    ) -> None:
        self.clock = FixedClock(START)
        self.image_store = InMemoryImageStore()
        self.store = store_class(objects=self.image_store.objects)
        self.repository = InMemoryImageRepository()
        self.sessions = InMemoryUploadSessions()
        processor = processor or PillowImageProcessor(max_pixels=4_000_000, max_frames=10)
        self.images = ImageService(
            store=self.image_store,
            repository=self.repository,
            processor=processor,
            cursors=CursorCodec(CURSOR_SECRET),
            limits=image_limits(Settings(max_file_size=64 * MIB)),
            clock=self.clock,
        )
        self.uploads = UploadService(
            publisher=self.images.publisher,
            store=self.store,
            sessions=self.sessions,
            limits=upload_limits(
                Settings(
                    max_file_size=max_file_size,
                    multipart_threshold=MIB,
                    upload_session_ttl=session_ttl,
                )
            ),
            clock=self.clock,
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

    def listed(self) -> list[str]:
        return [i.image_id for i in self.repository.search(ImageQuery(), None).items]

    def leftovers(self) -> list[str]:
        return (
            sorted(self.store.objects)
            + sorted(self.sessions.sessions)
            + [m for m, parts in self.store.multiparts.items() if parts is not None]
        )


def test_small_upload_is_a_post_then_an_image_under_originals() -> None:
    world = World()
    data = png()
    ticket = world.open(data, description="a cat", tags=("cat",))
    assert ticket.post is not None
    assert ticket.post.fields["key"] == ticket.session.object_key
    world.send(ticket, data)
    done = world.uploads.complete(ALICE, ticket.session.upload_id)
    image = done.image
    assert image.status is ImageStatus.READY
    assert (image.user_id, image.tags, image.size_bytes) == ("alice", ("cat",), len(data))
    assert image.sha256 == hashlib.sha256(data).hexdigest()
    assert world.store.objects == {image.object_key: data}
    assert world.listed() == [image.image_id]


def test_a_posted_upload_is_read_and_stored_as_post_images_stores_it() -> None:
    """GPS removed from the stored original (losslessly), EXIF, location and the upright size
    read: what the same bytes get through POST /images."""
    world = World()
    data = sideways_jpeg()
    ticket = world.open(data, filename="trip.jpg", content_type="image/jpeg")
    world.send(ticket, data)

    image = world.uploads.complete(ALICE, ticket.session.upload_id).image
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
    after the service has read what arrived."""

    def read(self, key: str, *, etag: str) -> bytes:
        data = super().read(key, etag=etag)
        self.objects[key] = b"<html>not the checked bytes</html>"
        return data

    def read_header(self, key: str, length: int, *, etag: str) -> bytes:
        data = super().read_header(key, length, etag=etag)
        self.objects[key] = b"<html>not the checked bytes</html>"
        return data


def test_a_posted_upload_stores_the_bytes_it_checked_whatever_lands_after() -> None:
    # GIVEN a single-POST session whose bytes are replaced between the check and the store
    world = World(store_class=OverwrittenAfterRead)
    data = png()
    ticket = world.open(data)
    world.send(ticket, data)

    # WHEN it completes
    image = world.uploads.complete(ALICE, ticket.session.upload_id).image

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

        world.uploads.complete(ALICE, ticket.session.upload_id, parts)

        assert processor.inspections == 1, f"multipart={multipart}"


def test_a_posted_upload_gets_a_placeholder_and_a_multipart_one_none() -> None:
    world = World()
    small = png(color="green")
    posted = world.open(small)
    world.send(posted, small)
    large = png_of_size(2 * MIB)
    multipart = world.open(large)
    parts = world.send(multipart, large)

    with_placeholder = world.uploads.complete(ALICE, posted.session.upload_id).image
    without = world.uploads.complete(ALICE, multipart.session.upload_id, parts).image

    assert with_placeholder.blurhash
    assert with_placeholder.dominant_color in ("#008000", "#008001")  # JPEG rounding
    assert (without.blurhash, without.dominant_color) == (None, None)


def test_completing_twice_returns_the_same_image() -> None:
    world = World()
    data = png()
    ticket = world.open(data)
    world.send(ticket, data)
    first = world.uploads.complete(ALICE, ticket.session.upload_id)
    second = world.uploads.complete(ALICE, ticket.session.upload_id)
    assert second.image == first.image
    assert world.listed() == [first.image.image_id]


@pytest.mark.parametrize(
    ("sent", "fields", "error"),
    [
        (png() + b"extra", {"size": len(png())}, UploadRejected),
        (b"not an image at all", {}, InvalidImage),
        (jpeg(), {}, UnsupportedImage),  # declared PNG, is a JPEG
        (png(), {"sha256": "0" * 64}, UploadRejected),
    ],
)
def test_wrong_bytes_are_refused_and_nothing_is_left(
    sent: bytes, fields: dict[str, object], error: type[Exception]
) -> None:
    world = World()
    ticket = world.open(sent, ALICE, **fields)
    world.send(ticket, sent)
    with pytest.raises(error):
        world.uploads.complete(ALICE, ticket.session.upload_id)
    assert world.leftovers() == []
    assert world.listed() == []
    with pytest.raises(UploadNotFound):
        world.uploads.complete(ALICE, ticket.session.upload_id)


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
    assert world.uploads.complete(ALICE, ticket.session.upload_id).image.user_id == "alice"


def test_an_expired_session_is_gone_with_its_bytes() -> None:
    world = World(session_ttl=60)
    ticket = world.open(png())
    world.send(ticket, png())
    world.clock.advance(61)
    with pytest.raises(UploadExpired):
        world.uploads.complete(ALICE, ticket.session.upload_id)
    assert world.leftovers() == []


def test_complete_before_the_bytes_arrive_leaves_the_session_open() -> None:
    world = World()
    ticket = world.open(png())
    with pytest.raises(UploadIncomplete):
        world.uploads.complete(ALICE, ticket.session.upload_id)
    assert world.sessions.sessions[ticket.session.upload_id].status is SessionStatus.OPEN
    world.send(ticket, png())
    assert world.uploads.complete(ALICE, ticket.session.upload_id).image


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
    image = world.uploads.complete(ALICE, session.upload_id, first + rest).image
    assert world.store.objects == {image.object_key: data}
    assert image.size_bytes == len(data)


def test_abort_discards_the_session_and_its_parts() -> None:
    world = World()
    data = png_of_size(9 * MIB)
    ticket = world.open(data)
    world.send(ticket, data)
    world.uploads.abort(ALICE, ticket.session.upload_id)
    assert world.leftovers() == []


def test_the_sweeper_removes_abandoned_sessions() -> None:
    world = World(session_ttl=60)
    small, large = png(), png_of_size(9 * MIB)
    world.send(world.open(small), small)
    world.send(world.open(large), large)
    assert world.uploads.sweep() == 0
    world.clock.advance(61)
    assert world.uploads.sweep() == 2
    assert world.leftovers() == []


class Boom(Exception):
    pass


STEPS = [
    "complete_multipart",
    "version_of",
    "read_header",
    "stream",
    "compose",
    "sha256_of",
    "copy",
    "publish",
    "transition",
    "delete",
]


@pytest.mark.parametrize("step", STEPS)
def test_a_fault_at_any_step_of_complete_shows_no_broken_image(
    step: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = World(session_ttl=60)
    data = png_of_size(9 * MIB, png_chunk(b"eXIf", tiff_block()))  # rewritten: every step runs
    ticket = world.open(data)
    parts = world.send(ticket, data)
    owners = {"publish": world.repository, "transition": world.sessions}
    target: object = owners.get(step, world.store)
    original: Callable[..., object] = getattr(target, step)
    calls = {"n": 0}

    def failing(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        # The session's first transition (OPEN -> COMPLETING) goes through; the next fails.
        if step == "transition" and calls["n"] == 1:
            return original(*args, **kwargs)
        raise Boom(step)

    monkeypatch.setattr(target, step, failing)
    with contextlib.suppress(Boom):
        world.uploads.complete(ALICE, ticket.session.upload_id, parts)
    for image_id in world.listed():
        image = world.repository.get(image_id)
        assert image is not None
        assert image.status is ImageStatus.READY
        stored = world.image_store.objects[image.object_key]
        assert (len(stored), hashlib.sha256(stored).hexdigest()) == (image.size_bytes, image.sha256)
        assert not has_gps(stored)
    monkeypatch.undo()
    world.clock.advance(61 + 900)
    world.images.sweep()
    world.uploads.sweep()
    published = world.listed()
    expected = {world.repository.images[i].object_key for i in published}
    assert set(world.store.objects) == expected
    assert world.store.multiparts == {}


def test_a_second_complete_while_the_first_runs_is_a_conflict() -> None:
    world = World()
    ticket = world.open(png())
    world.send(ticket, png())
    session = world.sessions.sessions[ticket.session.upload_id]
    world.sessions.transition(
        session,
        session.with_status(SessionStatus.COMPLETING, image_id="01JAAAAAAAAAAAAAAAAAAAAAAA"),
    )
    with pytest.raises(ImageConflict):
        world.uploads.complete(ALICE, ticket.session.upload_id)
