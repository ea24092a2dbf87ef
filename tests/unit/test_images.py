"""ImageService, every use case and error path, on the in-memory fakes of the ports.

The processor is the real Pillow one (pure CPU) and the clock stands still until a test moves it
(``tests/support/fakes.py``). Failures are injected by wrapping a method of a fake.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from msgspec.structs import replace

from service.domain.errors import (
    ImageConflict,
    ImageNotFound,
    ImageTooLarge,
    InvalidCursor,
    InvalidImage,
    InvalidInput,
    MalformedImageId,
    StorageUnavailable,
    UnsupportedImage,
)
from service.domain.model import (
    Caller,
    Image,
    ImageChanges,
    ImageQuery,
    ImageStatus,
    NewImage,
    id_time_bounds,
    new_image_id,
    object_key,
)
from service.usecases.images import WRITE_ATTEMPTS, ImageService
from service.usecases.limits import Limits
from tests.support.fakes import FixedClock, InMemoryImageRepository, InMemoryImageStore
from tests.support.images import START, encode, jpeg, make_image, png, png_declaring

ALICE = Caller(user_id="alice")


def new_image(
    *,
    user: str = "alice",
    filename: str = "photo.jpg",
    declared: str | None = None,
    tags: tuple[str, ...] = ("nature",),
) -> NewImage:
    return NewImage(
        user_id=user,
        original_filename=filename,
        declared_content_type=declared,
        description="A photo",
        tags=tags,
        metadata={"camera": "x100", "iso": 200},
    )


def upload(
    service: ImageService,
    data: bytes | None = None,
    *,
    user: str = "alice",
    filename: str = "photo.jpg",
    declared: str | None = None,
    tags: tuple[str, ...] = ("nature",),
) -> Image:
    """Upload ``data`` (a small JPEG by default) as ``new_image`` describes it."""
    new = new_image(user=user, filename=filename, declared=declared, tags=tags)
    return service.upload(Caller(user), new, io.BytesIO(jpeg() if data is None else data)).image


def listed(service: ImageService, query: ImageQuery | None = None) -> list[str]:
    return [image.image_id for image in service.search(ALICE, query or ImageQuery()).items]


def nothing_left(store: InMemoryImageStore, repository: InMemoryImageRepository) -> bool:
    """No object, and no image but the tombstones that keep unpublished ids from publishing."""
    return not store.objects and set(repository.images) <= repository.tombstones


def seed(store: InMemoryImageStore, repository: InMemoryImageRepository, image: Image) -> Image:
    """An image as an interrupted request leaves it: item in any status, bytes stored."""
    repository.images[image.image_id] = image
    store.objects[image.object_key] = b"bytes"
    return image


def orphan(store: InMemoryImageStore, image: Image) -> Image:
    """An upload that crashed before publishing: its bytes stored, no item."""
    store.objects[image.object_key] = b"bytes"
    return image


def failing(error: Exception) -> Callable[..., object]:
    """A stand-in for a method of a port that raises ``error``."""

    def fail(*args: object, **kwargs: object) -> object:
        raise error

    return fail


# --- upload -------------------------------------------------------------------------------


def test_upload_stores_the_bytes_and_publishes_the_image(
    fake_service: ImageService,
    fake_store: InMemoryImageStore,
    fake_repository: InMemoryImageRepository,
    clock: FixedClock,
) -> None:
    # GIVEN a JPEG of 64x48 pixels
    data = jpeg((64, 48))
    # WHEN it is uploaded
    image = upload(fake_service, data, filename="holiday.jpg")
    # THEN it is READY, described from its bytes, and stored under the model's key
    assert image.status is ImageStatus.READY
    assert (image.content_type, image.width, image.height) == ("image/jpeg", 64, 48)
    assert image.size_bytes == len(data)
    assert image.sha256 == hashlib.sha256(data).hexdigest()
    assert image.original_filename == "holiday.jpg"
    assert (image.user_id, image.description, image.tags) == ("alice", "A photo", ("nature",))
    assert image.metadata == {"camera": "x100", "iso": 200}
    assert image.created_at == image.updated_at == clock.now
    low, high = id_time_bounds(clock.now, clock.now)
    assert low <= image.image_id <= high
    assert fake_store.objects[object_key(image.image_id)] == data
    assert fake_store.content_types[object_key(image.image_id)] == "image/jpeg"
    assert fake_repository.images[image.image_id] == image
    assert fake_service.get(ALICE, image.image_id) == image
    assert listed(fake_service) == [image.image_id]


def test_upload_reads_the_body_from_its_start(
    fake_service: ImageService, fake_store: InMemoryImageStore
) -> None:
    # GIVEN a body that was already read to its end
    data = png()
    body = io.BytesIO(data)
    body.read()
    # WHEN it is uploaded, THEN the whole file is
    image = fake_service.upload(ALICE, new_image(filename="a.png"), body).image
    assert image.size_bytes == len(data)
    assert fake_store.objects[image.object_key] == data


@pytest.mark.parametrize("filename", ["", "...", "   "])
def test_upload_without_a_usable_filename_is_named_after_its_id(
    fake_service: ImageService, filename: str
) -> None:
    image = upload(fake_service, filename=filename)
    assert image.original_filename == image.image_id


def test_upload_keeps_only_the_base_name_of_a_path(fake_service: ImageService) -> None:
    image = upload(fake_service, filename="../../etc/photo.jpg")
    assert image.original_filename == "photo.jpg"


@pytest.mark.parametrize(
    "declared",
    [None, "image/jpeg", "image/jpg", "IMAGE/JPEG; charset=x", "application/octet-stream"],
)
def test_upload_accepts_a_declared_type_that_matches_or_says_nothing(
    fake_service: ImageService, declared: str | None
) -> None:
    image = upload(fake_service, jpeg(), declared=declared)
    assert image.content_type == "image/jpeg"


def test_empty_file_is_refused(
    fake_service: ImageService,
    fake_store: InMemoryImageStore,
    fake_repository: InMemoryImageRepository,
) -> None:
    with pytest.raises(InvalidImage, match="empty"):
        upload(fake_service, b"")
    assert nothing_left(fake_store, fake_repository)


def test_file_over_the_size_limit_is_refused_before_it_is_read(
    fake_service: ImageService,
    fake_store: InMemoryImageStore,
    fake_repository: InMemoryImageRepository,
    limits: Limits,
) -> None:
    # GIVEN bytes one over the limit (not even an image: the size is checked first)
    data = b"\0" * (limits.max_file_size + 1)
    # WHEN uploaded, THEN too large, and nothing stored
    with pytest.raises(ImageTooLarge, match=str(limits.max_file_size)):
        upload(fake_service, data)
    assert nothing_left(fake_store, fake_repository)


def test_file_at_the_size_limit_is_inspected(fake_service: ImageService, limits: Limits) -> None:
    with pytest.raises(InvalidImage):  # past the size check: the processor saw it
        upload(fake_service, b"\0" * limits.max_file_size)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"not an image at all", InvalidImage),
        (jpeg()[:100], InvalidImage),
        (png_declaring(3000, 3000), ImageTooLarge),  # over the processor's pixel cap
    ],
    ids=["garbage", "truncated", "too-many-pixels"],
)
def test_bytes_the_processor_refuses_are_not_stored(
    fake_service: ImageService,
    fake_store: InMemoryImageStore,
    fake_repository: InMemoryImageRepository,
    data: bytes,
    error: type[Exception],
) -> None:
    with pytest.raises(error):
        upload(fake_service, data)
    assert nothing_left(fake_store, fake_repository)


def test_readable_image_of_a_type_not_accepted_is_unsupported(
    fake_service: ImageService,
    fake_store: InMemoryImageStore,
    fake_repository: InMemoryImageRepository,
) -> None:
    # GIVEN a BMP: Pillow reads it, the service does not accept it
    with pytest.raises(UnsupportedImage, match="image/bmp is not accepted"):
        upload(fake_service, encode("BMP"), filename="a.bmp")
    assert nothing_left(fake_store, fake_repository)


def test_declared_type_that_does_not_match_the_content_is_unsupported(
    fake_service: ImageService,
    fake_store: InMemoryImageStore,
    fake_repository: InMemoryImageRepository,
) -> None:
    # GIVEN JPEG bytes declared as PNG
    with pytest.raises(UnsupportedImage, match="declared as image/png"):
        upload(fake_service, jpeg(), declared="image/png")
    assert nothing_left(fake_store, fake_repository)


def test_failed_publish_discards_the_pending_image_and_its_bytes(
    fake_service: ImageService,
    fake_store: InMemoryImageStore,
    fake_repository: InMemoryImageRepository,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a repository that fails to publish, once the bytes are stored
    stored_then: list[bool] = []

    def publish_fails(image: Image, *, claim: bool = False) -> Image:
        stored_then.append(image.object_key in fake_store.objects)
        raise StorageUnavailable("down")

    monkeypatch.setattr(fake_repository, "publish", publish_fails)
    # WHEN an image is uploaded, THEN the error reaches the caller and nothing is left
    with pytest.raises(StorageUnavailable):
        upload(fake_service)
    assert stored_then == [True]
    assert nothing_left(fake_store, fake_repository)


def test_failed_store_write_leaves_nothing(
    fake_service: ImageService,
    fake_store: InMemoryImageStore,
    fake_repository: InMemoryImageRepository,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fake_store, "put", failing(StorageUnavailable("S3 down")))
    with pytest.raises(StorageUnavailable, match="S3 down"):
        upload(fake_service)
    assert nothing_left(fake_store, fake_repository)


def test_failed_clean_up_leaves_a_tombstone_invisible_for_sweep(
    fake_service: ImageService,
    fake_store: InMemoryImageStore,
    fake_repository: InMemoryImageRepository,
    clock: FixedClock,
    limits: Limits,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # GIVEN publishing fails, and so does deleting the bytes it wrote
    monkeypatch.setattr(fake_repository, "publish", failing(StorageUnavailable("publish")))
    monkeypatch.setattr(fake_store, "delete", failing(StorageUnavailable("delete")))
    # WHEN an image is uploaded, THEN the caller gets the first error, a warning is logged
    with (
        caplog.at_level(logging.WARNING, logger="service.usecases.images"),
        pytest.raises(StorageUnavailable, match="publish"),
    ):
        upload(fake_service)
    assert "could not discard unpublished image" in caplog.text
    # AND what is left is a tombstone (DELETING) and invisible, until sweep removes its bytes
    (left,) = fake_repository.images.values()
    assert left.status is ImageStatus.DELETING
    assert listed(fake_service) == []
    with pytest.raises(ImageNotFound):
        fake_service.get(ALICE, left.image_id)
    monkeypatch.undo()
    clock.advance(limits.sweep_grace_seconds + 1)
    fake_service.sweep()
    assert nothing_left(fake_store, fake_repository)


def test_a_publish_that_committed_despite_an_error_returns_the_image(
    fake_service: ImageService,
    fake_store: InMemoryImageStore,
    fake_repository: InMemoryImageRepository,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a publish whose transaction commits but whose answer is lost
    publish = fake_repository.publish

    def committed_then_lost(image: Image, *, claim: bool = False) -> Image:
        publish(image, claim=claim)
        raise StorageUnavailable("timed out")

    monkeypatch.setattr(fake_repository, "publish", committed_then_lost)
    # WHEN an image is uploaded, THEN the upload returns it, whole: bytes and listings
    image = upload(fake_service)
    monkeypatch.undo()
    assert image.status is ImageStatus.READY
    assert image.object_key in fake_store.objects
    assert listed(fake_service) == [image.image_id]


# --- get ------------------------------------------------------------------------------------


@pytest.mark.parametrize("image_id", ["", "nope", "0" * 25, "8" + "0" * 25, "0" * 25 + "U"])
def test_get_of_a_malformed_id_is_refused(fake_service: ImageService, image_id: str) -> None:
    with pytest.raises(MalformedImageId):
        fake_service.get(ALICE, image_id)


def test_get_of_an_unknown_id_is_not_found(fake_service: ImageService) -> None:
    with pytest.raises(ImageNotFound):
        fake_service.get(ALICE, new_image_id(START))


def test_an_image_being_deleted_is_not_found(
    fake_service: ImageService,
    fake_store: InMemoryImageStore,
    fake_repository: InMemoryImageRepository,
) -> None:
    image = seed(fake_store, fake_repository, make_image(status=ImageStatus.DELETING))
    with pytest.raises(ImageNotFound):
        fake_service.get(ALICE, image.image_id)


# --- search ---------------------------------------------------------------------------------


def test_date_from_after_date_to_is_invalid_input(fake_service: ImageService) -> None:
    query = ImageQuery(date_from=START, date_to=START - timedelta(seconds=1))
    with pytest.raises(InvalidInput) as raised:
        fake_service.search(ALICE, query)
    assert raised.value.errors == {"date_from": ["must not be after date_to"]}


def test_a_one_instant_date_range_is_valid(fake_service: ImageService, clock: FixedClock) -> None:
    image = upload(fake_service)
    assert listed(fake_service, ImageQuery(date_from=clock.now, date_to=clock.now)) == [
        image.image_id
    ]


def uploaded_one_second_apart(service: ImageService, clock: FixedClock, count: int) -> list[str]:
    """Ids of ``count`` uploads, newest first."""
    ids = []
    for _ in range(count):
        ids.append(upload(service).image_id)
        clock.advance(1)
    return ids[::-1]


def test_cursor_round_trip_pages_through_everything_once(
    fake_service: ImageService, clock: FixedClock
) -> None:
    # GIVEN five images and pages of two
    newest_first = uploaded_one_second_apart(fake_service, clock, 5)
    query = ImageQuery(user_id="alice", limit=2)
    # WHEN each next page is asked for with the cursor of the previous one
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        result = fake_service.search(ALICE, query, cursor)
        pages.append([image.image_id for image in result.items])
        cursor = result.next_cursor
        if cursor is None:
            break
    # THEN every image comes once, newest first, and the last page has no cursor
    assert pages == [newest_first[0:2], newest_first[2:4], newest_first[4:]]


def test_cursor_is_bound_to_the_filters_not_the_page_size(
    fake_service: ImageService, clock: FixedClock
) -> None:
    newest_first = uploaded_one_second_apart(fake_service, clock, 3)
    first = fake_service.search(ALICE, ImageQuery(tags=("nature",), limit=1))
    assert first.next_cursor is not None
    rest = fake_service.search(ALICE, ImageQuery(tags=("nature",), limit=10), first.next_cursor)
    assert [image.image_id for image in rest.items] == newest_first[1:]
    assert rest.next_cursor is None


def test_no_cursor_when_everything_fits_on_one_page(fake_service: ImageService) -> None:
    upload(fake_service)
    assert fake_service.search(ALICE, ImageQuery(limit=1)).next_cursor is None


def test_tampered_cursor_is_invalid(fake_service: ImageService, clock: FixedClock) -> None:
    uploaded_one_second_apart(fake_service, clock, 2)
    query = ImageQuery(limit=1)
    cursor = fake_service.search(ALICE, query).next_cursor
    assert cursor is not None
    tampered = ("A" if cursor[0] != "A" else "B") + cursor[1:]
    with pytest.raises(InvalidCursor):
        fake_service.search(ALICE, query, tampered)
    with pytest.raises(InvalidCursor):
        fake_service.search(ALICE, query, "not-a-cursor")


def test_cursor_of_another_query_is_refused(fake_service: ImageService, clock: FixedClock) -> None:
    uploaded_one_second_apart(fake_service, clock, 2)
    cursor = fake_service.search(ALICE, ImageQuery(user_id="alice", limit=1)).next_cursor
    assert cursor is not None
    with pytest.raises(InvalidCursor):
        fake_service.search(ALICE, ImageQuery(user_id="bob", limit=1), cursor)
    with pytest.raises(InvalidCursor):
        fake_service.search(ALICE, ImageQuery(limit=1), cursor)


# --- update ---------------------------------------------------------------------------------


def test_update_changes_only_the_fields_given(
    fake_service: ImageService, clock: FixedClock
) -> None:
    # GIVEN an image, a little later
    image = upload(fake_service, tags=("nature", "sea"))
    clock.advance(60)
    # WHEN only its tags are changed
    updated = fake_service.update(ALICE, image.image_id, ImageChanges(tags=("city",)))
    # THEN the tags are replaced, the rest is as it was, and updated_at is the clock's time
    assert updated.tags == ("city",)
    assert (updated.description, updated.metadata) == (image.description, image.metadata)
    assert updated.created_at == image.created_at
    assert updated.updated_at == clock.now != image.updated_at
    assert fake_service.get(ALICE, image.image_id) == updated
    assert listed(fake_service, ImageQuery(tags=("city",))) == [image.image_id]
    assert listed(fake_service, ImageQuery(tags=("sea",))) == []


def test_update_replaces_description_and_metadata(fake_service: ImageService) -> None:
    image = upload(fake_service)
    updated = fake_service.update(
        ALICE, image.image_id, ImageChanges(description="", metadata={"lens": "35mm"})
    )
    assert updated.description == ""  # an empty string is a change, not "leave it"
    assert updated.metadata == {"lens": "35mm"}
    assert updated.tags == image.tags


def test_update_with_no_changes_only_touches_updated_at(
    fake_service: ImageService, clock: FixedClock
) -> None:
    image = upload(fake_service)
    clock.advance(5)
    updated = fake_service.update(ALICE, image.image_id, ImageChanges())
    assert updated == replace(image, updated_at=clock.now, version=image.version + 1)


def test_update_of_an_unknown_image_is_not_found(fake_service: ImageService) -> None:
    with pytest.raises(ImageNotFound):
        fake_service.update(ALICE, new_image_id(START), ImageChanges(description="x"))


def test_update_of_an_image_being_deleted_is_not_found(
    fake_service: ImageService,
    fake_store: InMemoryImageStore,
    fake_repository: InMemoryImageRepository,
) -> None:
    image = seed(fake_store, fake_repository, make_image(status=ImageStatus.DELETING))
    with pytest.raises(ImageNotFound):
        fake_service.update(ALICE, image.image_id, ImageChanges(description="x"))
    assert fake_repository.images[image.image_id] == image


# --- delete ---------------------------------------------------------------------------------


def test_deleted_image_is_gone_everywhere(
    fake_service: ImageService,
    fake_store: InMemoryImageStore,
    fake_repository: InMemoryImageRepository,
) -> None:
    # GIVEN two images
    kept = upload(fake_service, user="bob")
    image = upload(fake_service)
    # WHEN one is deleted
    fake_service.delete(ALICE, image.image_id)
    # THEN it is gone from get, every listing, the store and the repository
    with pytest.raises(ImageNotFound):
        fake_service.get(ALICE, image.image_id)
    for query in (ImageQuery(), ImageQuery(user_id="alice"), ImageQuery(tags=("nature",))):
        assert image.image_id not in listed(fake_service, query)
    assert image.object_key not in fake_store.objects
    assert image.image_id not in fake_repository.images
    # AND the other one is untouched
    assert listed(fake_service) == [kept.image_id]
    # AND deleting it again finds nothing
    with pytest.raises(ImageNotFound):
        fake_service.delete(ALICE, image.image_id)


def test_delete_of_a_malformed_id_is_refused(fake_service: ImageService) -> None:
    with pytest.raises(MalformedImageId):
        fake_service.delete(ALICE, "nope")


def test_delete_retries_when_the_image_changed_meanwhile(
    fake_service: ImageService,
    fake_repository: InMemoryImageRepository,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN an image that a concurrent PATCH changes between the DELETE's read and its write
    image = upload(fake_service)
    hide = fake_repository.hide
    attempts: list[Image] = []

    def changed_once(seen: Image) -> Image:
        attempts.append(seen)
        if len(attempts) == 1:
            fake_service.update(ALICE, image.image_id, ImageChanges(description="patched"))
            raise ImageConflict("changed")
        return hide(seen)

    monkeypatch.setattr(fake_repository, "hide", changed_once)
    # WHEN it is deleted, THEN the second attempt, on what it read again, deletes it
    fake_service.delete(ALICE, image.image_id)
    assert [seen.description for seen in attempts] == ["A photo", "patched"]
    assert fake_repository.images == {}


def test_delete_gives_up_after_repeated_conflicts(
    fake_service: ImageService,
    fake_repository: InMemoryImageRepository,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    image = upload(fake_service)
    calls: list[Image] = []

    def always_conflicts(seen: Image) -> Image:
        calls.append(seen)
        raise ImageConflict("changed")

    monkeypatch.setattr(fake_repository, "hide", always_conflicts)
    with pytest.raises(ImageConflict):
        fake_service.delete(ALICE, image.image_id)
    assert len(calls) == WRITE_ATTEMPTS
    monkeypatch.undo()
    assert fake_service.get(ALICE, image.image_id) == image


def test_delete_that_loses_to_a_concurrent_delete_is_not_found(
    fake_service: ImageService,
    fake_repository: InMemoryImageRepository,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    image = upload(fake_service)

    def deleted_meanwhile(seen: Image) -> Image:
        fake_repository.remove(seen.image_id)
        raise ImageConflict("gone")

    monkeypatch.setattr(fake_repository, "hide", deleted_meanwhile)
    with pytest.raises(ImageNotFound):
        fake_service.delete(ALICE, image.image_id)


# --- download link (thumbnails: test_renditions.py) -----------------------------------------


def test_download_link_comes_from_the_store_with_the_configured_ttl(
    fake_service: ImageService, limits: Limits
) -> None:
    image = upload(fake_service, filename="été.jpg")
    link = fake_service.download_link(ALICE, image.image_id)
    assert link.expires_in == limits.download_url_ttl
    url = urlsplit(link.url)
    assert (url.scheme, url.path) == ("memory", "/" + object_key(image.image_id))
    query = parse_qs(url.query)
    assert query["X-Amz-Expires"] == [str(limits.download_url_ttl)]
    assert query["response-content-disposition"][0].endswith("filename*=UTF-8''%C3%A9t%C3%A9.jpg")


def test_download_link_of_an_unknown_image_is_not_found(fake_service: ImageService) -> None:
    with pytest.raises(ImageNotFound):
        fake_service.download_link(ALICE, new_image_id(START))


# --- sweep ----------------------------------------------------------------------------------


def test_sweep_removes_unpublished_uploads_past_the_grace_period_only(
    fake_service: ImageService,
    fake_store: InMemoryImageStore,
    fake_repository: InMemoryImageRepository,
    clock: FixedClock,
    limits: Limits,
) -> None:
    # GIVEN uploads interrupted before publishing: one past the grace period, one within it
    grace_minutes = limits.sweep_grace_seconds // 60
    stale = orphan(fake_store, make_image(-grace_minutes - 1))
    recent = orphan(fake_store, make_image(-grace_minutes + 1))
    assert clock.now == START
    # WHEN sweep runs
    report = fake_service.sweep()
    # THEN only the stale one is gone: its bytes deleted, its id marked
    assert (report.removed_unpublished, report.finished_deletes) == (1, 0)
    assert stale.image_id in fake_repository.tombstones  # it can never publish
    assert stale.object_key not in fake_store.objects
    assert recent.image_id not in fake_repository.images
    assert recent.object_key in fake_store.objects


def test_sweep_grace_period_can_be_given(
    fake_service: ImageService,
    fake_store: InMemoryImageStore,
    fake_repository: InMemoryImageRepository,
) -> None:
    orphan(fake_store, make_image(-2))
    assert fake_service.sweep(grace_seconds=180).removed_unpublished == 0
    assert fake_service.sweep(grace_seconds=60).removed_unpublished == 1
    assert nothing_left(fake_store, fake_repository)


def test_sweep_finishes_interrupted_deletes_whatever_their_age(
    fake_service: ImageService,
    fake_store: InMemoryImageStore,
    fake_repository: InMemoryImageRepository,
) -> None:
    # GIVEN a delete interrupted after hiding the image, a moment ago
    seed(fake_store, fake_repository, make_image(0, status=ImageStatus.DELETING))
    # WHEN sweep runs, THEN it finishes it
    report = fake_service.sweep()
    assert (report.removed_unpublished, report.finished_deletes) == (0, 1)
    assert nothing_left(fake_store, fake_repository)


def test_sweep_leaves_ready_images_alone(
    fake_service: ImageService, clock: FixedClock, limits: Limits
) -> None:
    image = upload(fake_service)
    clock.advance(limits.sweep_grace_seconds * 10)
    report = fake_service.sweep()
    assert (report.removed_unpublished, report.finished_deletes) == (0, 0)
    assert fake_service.get(ALICE, image.image_id) == image


def test_sweep_leaves_an_upload_that_published_meanwhile(
    fake_service: ImageService,
    fake_store: InMemoryImageStore,
    fake_repository: InMemoryImageRepository,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a slow upload, past the grace period, that publishes just before sweep marks it
    slow = make_image(-60)
    fake_store.objects[slow.object_key] = b"bytes"
    mark = fake_repository.tombstone

    def published_first(image_id: str) -> Image:
        fake_repository.publish(slow)
        return mark(image_id)

    monkeypatch.setattr(fake_repository, "tombstone", published_first)
    # WHEN sweep runs
    report = fake_service.sweep()
    # THEN the image is not a leftover: it stays, READY, with its bytes
    assert report.removed_unpublished == 0
    assert fake_service.get(ALICE, slow.image_id).status is ImageStatus.READY
    assert slow.object_key in fake_store.objects


def test_sweep_marks_an_unpublished_upload_before_deleting_its_bytes(
    fake_service: ImageService,
    fake_store: InMemoryImageStore,
    fake_repository: InMemoryImageRepository,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN the bytes of a stale upload that never published
    stale = orphan(fake_store, make_image(-60))
    seen: list[tuple[ImageStatus, bool]] = []
    delete = fake_store.delete

    def observed_delete(key: str) -> None:
        seen.append((fake_repository.images[stale.image_id].status, key in fake_store.objects))
        delete(key)

    monkeypatch.setattr(fake_store, "delete", observed_delete)
    fake_service.sweep()
    # THEN by the time its bytes are deleted it is DELETING: a late publish would fail
    assert seen == [(ImageStatus.DELETING, True)]


# --- readiness ------------------------------------------------------------------------------


def test_check_ready_passes_when_both_ports_answer(fake_service: ImageService) -> None:
    fake_service.check_ready()


@pytest.mark.parametrize("port", ["fake_store", "fake_repository"])
def test_check_ready_fails_when_a_port_does_not_answer(
    fake_service: ImageService,
    port: str,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(request.getfixturevalue(port), "check", failing(StorageUnavailable(port)))
    with pytest.raises(StorageUnavailable, match=port):
        fake_service.check_ready()
