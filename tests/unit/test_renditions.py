"""Renditions, EXIF and placeholders in ImageService, on the in-memory fakes and real Pillow."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime

import pytest
from msgspec.structs import asdict, replace
from PIL import Image as PILImage

from service.adapters.pillow_processor import PillowImageProcessor
from service.domain.errors import (
    ImageConflict,
    ImageNotFound,
    InvalidInput,
    MalformedImageId,
    StorageUnavailable,
)
from service.domain.jobs import Job, JobKind
from service.domain.model import (
    Caller,
    GeoPoint,
    Image,
    ImageQuery,
    NewImage,
    Placeholder,
    RenditionInfo,
    new_image_id,
    rendition_key,
    rendition_prefix,
)
from service.usecases.images import ImageService
from service.usecases.limits import Limits
from service.usecases.processing import JobProcessor
from tests.support.fakes import InMemoryImageRepository, InMemoryImageStore, InMemoryJobQueue
from tests.support.images import START, has_gps, jpeg, scan_data, sideways_jpeg

ALICE = Caller(user_id="alice")
BOB = Caller(user_id="bob")


def upload(service: ImageService, data: bytes, user: str = "alice") -> Image:
    new = NewImage(user_id=user, original_filename="photo.jpg", declared_content_type=None)
    return service.upload(Caller(user), new, io.BytesIO(data)).image


def service_with(
    store: InMemoryImageStore,
    repository: InMemoryImageRepository,
    fake_service: ImageService,
    **changes: object,
) -> ImageService:
    limits: Limits = fake_service._limits
    return ImageService(
        store=store,
        repository=repository,
        processor=PillowImageProcessor(max_pixels=4_000_000, max_frames=10),
        cursors=fake_service._cursors,
        limits=replace(limits, **changes),
        jobs=fake_service._jobs,
        clock=fake_service._clock,
        sweep_start=lambda: "0",
    )


def refuse(*args: object, **kwargs: object) -> object:
    raise AssertionError("must not be called")


# --- thumbnails -------------------------------------------------------------------------------


def test_a_thumbnail_is_rendered_once_then_served_from_the_store(
    fake_service: ImageService,
    fake_store: InMemoryImageStore,
    fake_repository: InMemoryImageRepository,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    image = upload(fake_service, sideways_jpeg())
    ref = fake_service.rendition_ref(ALICE, image.image_id, 256, "jpeg")
    link = fake_service.thumbnail(ALICE, ref)
    key = rendition_key(image.image_id, 256, "jpeg")
    # the URL names the stored rendition; the rendition is upright (orientation 6: tall)
    assert link.url.startswith(f"memory://store/{key}?")
    assert (link.width, link.height, link.format) == (128, 256, "jpeg")
    with PILImage.open(io.BytesIO(fake_store.objects[key])) as stored:
        assert stored.size == (128, 256)
        assert not stored.getexif()
        assert stored.convert("RGB").getpixel((64, 10)) == pytest.approx((255, 0, 0), abs=40)
    assert fake_repository.images[image.image_id].rendition(256, "jpeg") is not None
    # the second request reads neither the original nor renders
    monkeypatch.setattr(fake_store, "read", refuse)
    monkeypatch.setattr(fake_store, "put_once", refuse)
    again = fake_service.thumbnail(ALICE, ref)
    assert (again.width, again.height) == (128, 256)
    assert link.cache_seconds == link.expires_in - 60


def test_concurrent_first_requests_store_one_result_and_record_it_once(
    fake_service: ImageService,
    fake_store: InMemoryImageStore,
    fake_repository: InMemoryImageRepository,
) -> None:
    image = upload(fake_service, sideways_jpeg())
    ref = fake_service.rendition_ref(ALICE, image.image_id, 256, "jpeg")
    fake_service.thumbnail(ALICE, ref)
    key = rendition_key(image.image_id, 256, "jpeg")
    first = fake_store.objects[key]
    # GIVEN a second request that read the metadata before the first one recorded it
    fake_repository.images[image.image_id] = image
    # WHEN it renders too, THEN its put is refused, the bytes are the same anyway
    fake_service.thumbnail(ALICE, ref)
    assert fake_store.objects[key] == first
    assert fake_store.put_once(key, b"other", content_type="image/jpeg") is False
    assert len(fake_repository.images[image.image_id].renditions) == 1


def test_a_rendition_of_an_image_deleted_meanwhile_is_not_found(
    fake_service: ImageService, fake_repository: InMemoryImageRepository
) -> None:
    image = upload(fake_service, jpeg((64, 48)))
    ref = fake_service.rendition_ref(ALICE, image.image_id, 256, "jpeg")
    original_add = fake_repository.add_rendition

    def deleted_first(
        image_id: str,
        rendition: RenditionInfo,
        *,
        placeholder: Placeholder | None = None,
        phash: str | None = None,
    ) -> None:
        fake_repository.hide(fake_repository.images[image_id])
        original_add(image_id, rendition, placeholder=placeholder, phash=phash)

    fake_repository.add_rendition = deleted_first  # type: ignore[method-assign]
    with pytest.raises(ImageNotFound):
        fake_service.thumbnail(ALICE, ref)


def test_a_rendition_of_an_image_that_kept_changing_is_served_unrecorded(
    fake_service: ImageService,
    fake_repository: InMemoryImageRepository,
    fake_store: InMemoryImageStore,
) -> None:
    # GIVEN an image whose rendition cannot be recorded: it changes under every attempt
    image = upload(fake_service, jpeg((64, 48)))
    ref = fake_service.rendition_ref(ALICE, image.image_id, 256, "jpeg")

    def always_changed(
        image_id: str,
        rendition: RenditionInfo,
        *,
        placeholder: Placeholder | None = None,
        phash: str | None = None,
    ) -> None:
        raise ImageConflict(f"Image {image_id} kept changing")

    fake_repository.add_rendition = always_changed  # type: ignore[method-assign]
    # WHEN its thumbnail is asked for, THEN the stored rendition is served all the same
    link = fake_service.thumbnail(ALICE, ref)
    assert rendition_key(image.image_id, 256, "jpeg") in link.url
    assert rendition_key(image.image_id, 256, "jpeg") in fake_store.objects
    assert fake_repository.images[image.image_id].renditions == ()


@pytest.mark.parametrize(
    ("size", "fmt", "accepted", "chosen"),
    [
        (256, "auto", (), "jpeg"),
        (256, "auto", ("webp",), "webp"),
        (1024, "auto", ("webp", "avif"), "avif"),
        (256, "webp", (), "webp"),
    ],
)
def test_the_format_is_chosen_from_accept_among_the_allowed_ones(
    fake_service: ImageService,
    fake_store: InMemoryImageStore,
    fake_repository: InMemoryImageRepository,
    size: int,
    fmt: str,
    accepted: tuple[str, ...],
    chosen: str,
) -> None:
    service = service_with(
        fake_store, fake_repository, fake_service, rendition_formats=("jpeg", "webp", "avif")
    )
    image_id = new_image_id(START)
    ref = service.rendition_ref(ALICE, image_id, size, fmt, accepted)
    assert (ref.size, ref.format, ref.etag) == (size, chosen, f"{image_id}-{size}-{chosen}")


def test_rendition_requests_are_checked_without_io(fake_service: ImageService) -> None:
    image_id = new_image_id(START)
    with pytest.raises(InvalidInput, match="size must be one of 256, 1024"):
        fake_service.rendition_ref(ALICE, image_id, 128, "jpeg")
    with pytest.raises(InvalidInput, match="format webp is not served"):
        fake_service.rendition_ref(ALICE, image_id, 256, "webp")  # jpeg only in these limits
    with pytest.raises(MalformedImageId):
        fake_service.rendition_ref(ALICE, "nope", 256, "jpeg")
    # allowed but unknown: found out only when the rendition is asked for
    ref = fake_service.rendition_ref(ALICE, image_id, 256, "jpeg")
    with pytest.raises(ImageNotFound):
        fake_service.thumbnail(ALICE, ref)


def test_a_rendition_without_its_original_is_storage_unavailable(
    fake_service: ImageService, fake_store: InMemoryImageStore
) -> None:
    image = upload(fake_service, jpeg())
    fake_store.delete(image.object_key)
    with pytest.raises(StorageUnavailable):
        fake_service.thumbnail(
            ALICE, fake_service.rendition_ref(ALICE, image.image_id, 256, "jpeg")
        )


# --- upkeep -----------------------------------------------------------------------------------


def test_renditions_are_deleted_with_the_image(
    fake_service: ImageService, fake_store: InMemoryImageStore
) -> None:
    image = upload(fake_service, sideways_jpeg())
    for size in (256, 1024):
        fake_service.thumbnail(
            ALICE, fake_service.rendition_ref(ALICE, image.image_id, size, "jpeg")
        )
    assert len(fake_store.objects) == 3
    fake_service.delete(ALICE, image.image_id)
    assert fake_store.objects == {}


def test_sweep_removes_orphan_renditions_only(
    fake_service: ImageService,
    fake_store: InMemoryImageStore,
    fake_repository: InMemoryImageRepository,
) -> None:
    kept = upload(fake_service, jpeg())
    fake_service.thumbnail(ALICE, fake_service.rendition_ref(ALICE, kept.image_id, 256, "jpeg"))
    orphan = rendition_key(new_image_id(START), 256, "jpeg")
    fake_store.objects[orphan] = b"left behind"
    report = service_with(fake_store, fake_repository, fake_service).sweep()
    assert report.orphan_renditions == 1
    assert orphan not in fake_store.objects
    assert any(k.startswith(rendition_prefix(kept.image_id)) for k in fake_store.objects)


def test_the_worker_stores_the_smallest_rendition_of_an_upload_once(
    fake_service: ImageService,
    fake_store: InMemoryImageStore,
    fake_repository: InMemoryImageRepository,
    fake_jobs: InMemoryJobQueue,
    fake_processor: JobProcessor,
) -> None:
    image = upload(fake_service, sideways_jpeg())
    assert image.renditions == ()  # the upload answers before the job runs
    assert fake_jobs.jobs == [Job(JobKind.DERIVE, image.image_id)]

    assert fake_jobs.run_all(fake_processor) == 1

    derived = fake_repository.images[image.image_id]
    assert derived.renditions == (RenditionInfo(256, "jpeg", 128, 256),)
    assert rendition_key(image.image_id, 256, "jpeg") in fake_store.objects
    assert derived.version == image.version  # derived data: the image did not change


# --- EXIF, GPS and placeholders ---------------------------------------------------------------


def test_upload_reports_the_displayed_size_and_exif_then_the_worker_adds_the_placeholder(
    fake_service: ImageService,
    fake_repository: InMemoryImageRepository,
    fake_jobs: InMemoryJobQueue,
    fake_processor: JobProcessor,
) -> None:
    image = upload(fake_service, sideways_jpeg())
    assert (image.width, image.height) == (300, 600)
    assert (image.pixel_width, image.pixel_height) == (600, 300)
    assert image.exif is not None
    assert asdict(image.exif) == {
        "taken_at": "2024-05-06T07:08:09+02:00",
        "make": "Canon",
        "model": "EOS R5",
        "lens": "RF35mm F1.8",
        "exposure_time": "1/125",
        "f_number": 2.8,
        "iso": 400,
        "focal_length": 35.0,
        "gps_present": True,
    }
    assert image.taken_at == datetime(2024, 5, 6, 5, 8, 9, tzinfo=UTC)
    assert (image.blurhash, image.dominant_color) == (None, None)

    fake_jobs.run_all(fake_processor)

    derived = fake_repository.images[image.image_id]
    assert derived.blurhash is not None
    assert len(derived.blurhash) == 4 + 2 * 4 * 3  # 4x3 components
    assert derived.dominant_color in ("#fe0000", "#ff0000", "#0000fe", "#0000ff")


def test_gps_is_removed_from_the_stored_original_without_reencoding(
    fake_service: ImageService, fake_store: InMemoryImageStore
) -> None:
    original = sideways_jpeg()
    image = upload(fake_service, original)
    stored = fake_store.objects[image.object_key]
    assert has_gps(original)
    assert not has_gps(stored)
    assert scan_data(stored) == scan_data(original)
    with PILImage.open(io.BytesIO(stored)) as a, PILImage.open(io.BytesIO(original)) as b:
        assert a.tobytes() == b.tobytes()
        assert a.getexif()[0x0112] == 6  # the rest of the EXIF stays
    # size and sha256 describe the stored bytes
    assert image.size_bytes == len(stored)
    assert image.sha256 == hashlib.sha256(stored).hexdigest()
    # the position is kept, rounded, for the owner
    assert image.location == GeoPoint(48.86, 2.29)


def test_gps_is_kept_when_strip_gps_is_off(
    fake_service: ImageService,
    fake_store: InMemoryImageStore,
    fake_repository: InMemoryImageRepository,
) -> None:
    service = service_with(
        fake_store, fake_repository, fake_service, strip_gps=False, gps_precision=4
    )
    image = upload(service, sideways_jpeg())
    assert has_gps(fake_store.objects[image.object_key])
    assert image.location == GeoPoint(48.8582, 2.2944)


def test_only_the_owner_sees_the_location(fake_service: ImageService) -> None:
    image = upload(fake_service, sideways_jpeg())
    assert fake_service.sees_location(ALICE, image)
    for other in (
        BOB,
        Caller(None),
        Caller("alice", unrestricted=True),
        Caller("x", frozenset({"admins"})),
    ):
        assert not fake_service.sees_location(other, image)


# --- capture time ------------------------------------------------------------------------------


def test_listing_by_capture_time(fake_service: ImageService) -> None:
    old = upload(fake_service, sideways_jpeg(taken="2020:01:02 03:04:05", offset=None))
    new = upload(fake_service, sideways_jpeg(taken="2024:05:06 07:08:09"))
    upload(fake_service, jpeg())  # no capture time: never found by one

    def listed(**filters: object) -> list[str]:
        query = ImageQuery(**filters)  # type: ignore[arg-type]
        return [i.image_id for i in fake_service.search(ALICE, query).items]

    assert listed(user_id="alice", taken_from=datetime(2019, 1, 1, tzinfo=UTC)) == [
        new.image_id,
        old.image_id,
    ]
    assert listed(
        taken_from=datetime(2020, 1, 1, tzinfo=UTC), taken_to=datetime(2020, 12, 31, tzinfo=UTC)
    ) == [old.image_id]


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"taken_from": datetime(2020, 1, 1, tzinfo=UTC)}, "both taken_from and taken_to"),
        (
            {"user_id": "a", "tags": ("x",), "taken_to": datetime(2020, 1, 1, tzinfo=UTC)},
            "combine with user_id only",
        ),
        (
            {
                "user_id": "a",
                "taken_from": datetime(2021, 1, 1, tzinfo=UTC),
                "taken_to": datetime(2020, 1, 1, tzinfo=UTC),
            },
            "taken_from is after taken_to",
        ),
        (
            {
                "taken_from": datetime(2000, 1, 1, tzinfo=UTC),
                "taken_to": datetime(2020, 1, 1, tzinfo=UTC),
            },
            "span at most 120 months",
        ),
    ],
)
def test_capture_time_queries_the_partitions_cannot_serve_are_refused(
    fake_service: ImageService, filters: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        fake_service.search(ALICE, ImageQuery(**filters))  # type: ignore[arg-type]
