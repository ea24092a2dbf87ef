"""ImageRepository: the fake and the DynamoDB adapter behave the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from msgspec.structs import replace

from service.domain.errors import ImageConflict, StorageUnavailable
from service.domain.model import (
    ExifSummary,
    GeoPoint,
    Image,
    ImageQuery,
    ImageStatus,
    RenditionInfo,
)
from service.domain.rules import MAX_TAGS, MetadataValue
from service.ports import ImageRepository
from tests.support.images import START, add_ready, make_image


def ids(repository: ImageRepository, **filters: Any) -> list[str]:
    page = repository.search(ImageQuery(**filters), None)
    return [image.image_id for image in page.items]


def test_published_image_round_trips_and_is_listed(repository: ImageRepository) -> None:
    image = make_image(tags=("nature",))
    ready = add_ready(repository, image)
    assert ready.status is ImageStatus.READY
    assert repository.get(image.image_id) == ready
    for filters in (
        {},
        {"user_id": "alice"},
        {"tags": ("nature",)},
        {"content_type": "image/jpeg"},
        {"user_id": "alice", "tags": ("nature",)},
        {"user_id": "alice", "content_type": "image/jpeg"},
    ):
        assert ids(repository, **filters) == [image.image_id], filters


def test_publishing_twice_is_a_conflict(repository: ImageRepository) -> None:
    image = add_ready(repository, make_image())
    with pytest.raises(ImageConflict):
        repository.publish(image)


def test_replace_reindexes_tags(repository: ImageRepository) -> None:
    old = add_ready(repository, make_image(tags=("a", "b")))
    new = replace(old, tags=("b", "c"), description="changed")
    repository.replace(old, new)
    assert repository.get(old.image_id) == new
    assert ids(repository, tags=("a",)) == []
    assert ids(repository, tags=("b",)) == [old.image_id]
    assert ids(repository, tags=("c",)) == [old.image_id]
    assert ids(repository, user_id="alice", tags=("c",)) == [old.image_id]


def test_replace_of_a_hidden_image_is_a_conflict(repository: ImageRepository) -> None:
    image = add_ready(repository, make_image())
    repository.hide(image)
    with pytest.raises(ImageConflict):
        repository.replace(image, replace(image, description="x"))


def test_hidden_image_leaves_every_listing(repository: ImageRepository) -> None:
    image = add_ready(repository, make_image(tags=("t",)))
    hidden = repository.hide(image)
    assert hidden.status is ImageStatus.DELETING
    stored = repository.get(image.image_id)
    assert stored is not None
    assert stored.status is ImageStatus.DELETING
    assert ids(repository) == ids(repository, tags=("t",)) == ids(repository, user_id="alice") == []
    with pytest.raises(ImageConflict):
        repository.hide(image)


def test_remove_is_idempotent(repository: ImageRepository) -> None:
    image = add_ready(repository, make_image())
    repository.remove(image.image_id)
    repository.remove(image.image_id)
    assert repository.get(image.image_id) is None


def test_filters_combine_with_and(repository: ImageRepository) -> None:
    a = add_ready(repository, make_image(1, tags=("x", "y")))
    b = add_ready(repository, make_image(2, tags=("x",), content_type="image/png"))
    c = add_ready(repository, make_image(3, user="bob", tags=("x", "y")))
    assert ids(repository, tags=("x",)) == [c.image_id, b.image_id, a.image_id]
    assert ids(repository, tags=("x", "y")) == [c.image_id, a.image_id]
    assert ids(repository, tags=("y", "x"), user_id="alice") == [a.image_id]
    assert ids(repository, tags=("x",), content_type="image/png") == [b.image_id]
    assert ids(repository, user_id="bob", content_type="image/png") == []
    assert ids(repository, tags=("nothing",)) == []


def test_date_range_is_inclusive_and_newest_first(repository: ImageRepository) -> None:
    images = [add_ready(repository, make_image(minutes)) for minutes in (0, 10, 20, 30)]
    window = {
        "date_from": START + timedelta(minutes=10),
        "date_to": START + timedelta(minutes=20),
    }
    expected = [images[2].image_id, images[1].image_id]
    assert ids(repository, **window) == expected
    assert ids(repository, user_id="alice", **window) == expected
    assert ids(repository, content_type="image/jpeg", **window) == expected


def test_dates_across_days_are_listed_newest_first(repository: ImageRepository) -> None:
    images = [add_ready(repository, make_image(minutes)) for minutes in (0, 60 * 30, 60 * 80)]
    assert ids(repository) == [image.image_id for image in reversed(images)]
    later = {"date_from": START + timedelta(hours=1)}
    assert ids(repository, **later) == [images[2].image_id, images[1].image_id]


@pytest.mark.parametrize(
    "filters",
    [{}, {"user_id": "alice"}, {"tags": ("t",)}, {"tags": ("t", "u")}],
    ids=["all", "user", "tag", "two-tags"],
)
def test_pages_visit_every_image_once_newest_first(
    repository: ImageRepository, filters: dict[str, Any]
) -> None:
    # Three pages of 5, the last one short, one of them across midnight.
    created = [
        add_ready(repository, make_image(minutes * 197, tags=("t", "u"))).image_id
        for minutes in range(11)
    ]
    seen: list[str] = []
    position = None
    while True:
        page = repository.search(ImageQuery(limit=5, **filters), position)
        assert len(page.items) <= 5
        seen.extend(image.image_id for image in page.items)
        if page.next_position is None:
            break
        position = page.next_position
    assert seen == sorted(created, reverse=True)


def test_unfinished_finds_every_deleting_image(repository: ImageRepository) -> None:
    ready = add_ready(repository, make_image(1))
    deleting = repository.hide(add_ready(repository, make_image(2)))
    tombstone = repository.tombstone(make_image(3).image_id)
    found = {image.image_id for image in repository.unfinished()}
    assert found == {deleting.image_id}
    assert tombstone.image_id not in found
    assert ready.image_id not in found


def test_an_upload_with_a_tombstone_can_no_longer_be_published(repository: ImageRepository) -> None:
    image = make_image()
    tombstone = repository.tombstone(image.image_id)
    assert tombstone.status is ImageStatus.DELETING
    assert repository.get(image.image_id) == tombstone
    with pytest.raises(ImageConflict):
        repository.publish(image)
    assert ids(repository) == []
    # The tombstone stays (the sweep does not list it) until it is older than asked
    assert list(repository.unfinished()) == []
    assert repository.forget_tombstones(START - timedelta(minutes=1)) == 0
    assert repository.forget_tombstones(START + timedelta(minutes=1)) == 1
    assert repository.get(image.image_id) is None


def test_published_images_cannot_get_a_tombstone(repository: ImageRepository) -> None:
    image = add_ready(repository, make_image())
    with pytest.raises(ImageConflict):
        repository.tombstone(image.image_id)
    assert ids(repository) == [image.image_id]


def test_a_patch_that_swaps_every_tag_moves_every_entry(repository: ImageRepository) -> None:
    # GIVEN an image with the most tags; a PATCH gives it as many other tags (over 100 items in
    # one transaction: the repository splits it)
    old_tags = tuple(f"old{n}" for n in range(MAX_TAGS))
    new_tags = tuple(f"new{n}" for n in range(MAX_TAGS))
    image = add_ready(repository, make_image(tags=old_tags))
    new = replace(image, tags=new_tags, description="moved", version=2)
    stored = repository.replace(image, new)
    # THEN it is listed under every new tag, with the new fields, and under no old one
    assert repository.get(image.image_id) == stored
    assert stored.tags == new_tags
    assert stored.version >= 2
    for tag in new_tags:
        page = repository.search(ImageQuery(tags=(tag,), content_type="image/jpeg"), None)
        assert page.items == [stored], tag
    for tag in old_tags:
        assert ids(repository, tags=(tag,)) == [], tag
    # AND a PATCH from the version read before it is refused
    with pytest.raises(ImageConflict):
        repository.replace(image, replace(new, description="lost"))


def test_pages_are_stable_under_concurrent_inserts(repository: ImageRepository) -> None:
    older = [add_ready(repository, make_image(minutes)).image_id for minutes in range(6)]
    first = repository.search(ImageQuery(user_id="alice", limit=3), None)
    # WHEN newer images arrive between two pages
    add_ready(repository, make_image(60))
    add_ready(repository, make_image(61))
    second = repository.search(ImageQuery(user_id="alice", limit=3), first.next_position)
    # THEN the second page continues where the first stopped: no repeats, no gaps
    pages = [i.image_id for i in first.items] + [i.image_id for i in second.items]
    assert pages == list(reversed(older))


# --- derived data: EXIF, placeholders, renditions, capture time -------------------------------

TAKEN = ExifSummary(taken_at="2024-05-06T07:08:09+02:00", make="Canon", iso=400, gps_present=True)


def with_exif(image: Image, taken_at: str | None) -> Image:
    return replace(
        image,
        pixel_width=3,
        pixel_height=2,
        exif=replace(TAKEN, taken_at=taken_at),
        location=GeoPoint(48.86, 2.29),
        blurhash="LEHV6nWB2yk8pyo0adR*.7kCMdnj",
        dominant_color="#336699",
    )


def test_derived_fields_round_trip(repository: ImageRepository) -> None:
    image = add_ready(repository, with_exif(make_image(), TAKEN.taken_at))
    assert repository.get(image.image_id) == image


def test_a_rendition_is_recorded_once_without_a_new_version(
    repository: ImageRepository,
) -> None:
    image = add_ready(repository, make_image())
    small = RenditionInfo(size=256, format="jpeg", width=256, height=171)
    large = RenditionInfo(size=1024, format="webp", width=1024, height=683)
    for rendition in (large, small, small):
        repository.add_rendition(image.image_id, rendition)
    stored = repository.get(image.image_id)
    assert stored is not None
    assert stored.renditions == (small, large)
    assert stored.version == image.version
    # an edit keeps them
    repository.replace(stored, replace(stored, description="x", version=stored.version + 1))
    again = repository.get(image.image_id)
    assert again is not None
    assert again.renditions == (small, large)


def test_a_rendition_of_a_hidden_image_is_a_conflict(repository: ImageRepository) -> None:
    image = add_ready(repository, make_image())
    repository.hide(image)
    with pytest.raises(ImageConflict):
        repository.add_rendition(image.image_id, RenditionInfo(256, "jpeg", 1, 1))


def test_listing_by_capture_time_newest_first(repository: ImageRepository) -> None:
    taken = [
        "2024-05-06T07:08:09+02:00",
        "2024-03-01T00:00:00",
        "2023-12-31T23:00:00-02:00",  # 2024-01-01 01:00 UTC
    ]
    images = [
        add_ready(repository, with_exif(make_image(minutes=i), moment))
        for i, moment in enumerate(taken)
    ]
    add_ready(repository, make_image(minutes=9))  # no capture time
    add_ready(repository, with_exif(make_image(minutes=8, user="bob"), taken[0]))
    newest_first = [images[0].image_id, images[1].image_id, images[2].image_id]

    def taken_ids(limit: int = 20, **filters: Any) -> list[str]:
        found: list[str] = []
        position = None
        while True:
            page = repository.search(ImageQuery(limit=limit, **filters), position)
            found += [image.image_id for image in page.items]
            if page.next_position is None:
                return found
            position = page.next_position

    since_2024 = datetime(2024, 1, 1, tzinfo=UTC)
    assert taken_ids(user_id="alice", taken_from=since_2024) == newest_first
    assert taken_ids(limit=1, user_id="alice", taken_from=since_2024) == newest_first
    assert taken_ids(user_id="alice", taken_to=datetime(2024, 3, 1, tzinfo=UTC)) == [
        images[1].image_id,
        images[2].image_id,
    ]
    everyone = taken_ids(limit=2, taken_from=since_2024, taken_to=datetime(2024, 6, 1, tzinfo=UTC))
    assert len(everyone) == 4
    assert set(newest_first) <= set(everyone)
    # hidden: gone from the capture-time listings too
    repository.hide(images[0])
    assert taken_ids(user_id="alice", taken_from=since_2024) == newest_first[1:]


def test_listings_show_the_image_as_stored_renditions_included(
    repository: ImageRepository,
) -> None:
    # GIVEN an image with EXIF, a placeholder and a capture time, and a rendition recorded later
    image = add_ready(repository, with_exif(make_image(tags=("t",)), TAKEN.taken_at))
    repository.add_rendition(image.image_id, RenditionInfo(256, "jpeg", 256, 171))
    stored = repository.get(image.image_id)
    assert stored is not None
    since_2024 = datetime(2024, 1, 1, tzinfo=UTC)

    def listings(tag: str) -> list[ImageQuery]:
        return [
            ImageQuery(),
            ImageQuery(user_id="alice"),
            ImageQuery(tags=(tag,)),
            ImageQuery(tags=(tag,), content_type="image/jpeg"),
            ImageQuery(user_id="alice", tags=(tag,)),
            ImageQuery(user_id="alice", taken_from=since_2024),
            ImageQuery(taken_from=since_2024, taken_to=datetime(2024, 6, 1, tzinfo=UTC)),
        ]

    # THEN every listing shows exactly what a GET shows
    for query in listings("t"):
        assert repository.search(query, None).items == [stored], query
    # AND after a PATCH, the new image, under its new tag
    patched = repository.replace(
        stored, replace(stored, description="new", tags=("u",), version=stored.version + 1)
    )
    assert patched.renditions == stored.renditions
    for query in listings("u"):
        assert repository.search(query, None).items == [patched], query


def test_a_patch_read_before_a_rendition_was_recorded_is_refused(
    repository: ImageRepository,
) -> None:
    # GIVEN an image read, then a rendition recorded (which changes no version)
    image = add_ready(repository, make_image(tags=("t",)))
    rendition = RenditionInfo(256, "jpeg", 256, 171)
    repository.add_rendition(image.image_id, rendition)
    # WHEN a PATCH computed from the read is written, THEN it is refused (the listings would
    # otherwise lose the rendition), and the listings keep it
    with pytest.raises(ImageConflict):
        repository.replace(image, replace(image, description="x", version=image.version + 1))
    listed = repository.search(ImageQuery(tags=("t",)), None).items
    assert [found.renditions for found in listed] == [(rendition,)]


def test_an_image_with_custom_metadata_too_large_for_its_entries_is_listed_whole(
    repository: ImageRepository,
) -> None:
    # GIVEN an image whose custom metadata is too large to copy into each of its entries
    metadata: dict[str, MetadataValue] = {f"field{n}": "\u6f22" * 1024 for n in range(20)}
    image = add_ready(
        repository,
        replace(with_exif(make_image(tags=("t", "u")), TAKEN.taken_at), metadata=metadata),
    )
    small = add_ready(repository, make_image(1, tags=("t",)))
    since_2024 = datetime(2024, 1, 1, tzinfo=UTC)
    # THEN every listing shows it whole, as a GET does, beside images with small metadata
    for query in (
        ImageQuery(tags=("t",)),
        ImageQuery(user_id="alice", tags=("t",)),
        ImageQuery(tags=("t", "u")),
        ImageQuery(user_id="alice", taken_from=since_2024),
    ):
        listed = repository.search(query, None).items
        assert image in listed, query
        assert all(found in (image, small) for found in listed), query
    # AND after a PATCH, as changed
    patched = repository.replace(image, replace(image, description="new", version=2))
    assert repository.search(ImageQuery(tags=("u",)), None).items == [patched]


def test_check_passes_when_the_table_answers(repository: ImageRepository) -> None:
    repository.check()


def test_check_fails_when_the_table_does_not_answer(
    unanswering_repository: ImageRepository,
) -> None:
    with pytest.raises(StorageUnavailable):
        unanswering_repository.check()
