"""ImageRepository.add_rendition with the placeholder the worker draws from the smallest
rendition: the fake and the DynamoDB adapter alike set it on the image and on every listing
entry, once, without a new version."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from msgspec.structs import replace

from service.domain.errors import ImageConflict
from service.domain.model import (
    ExifSummary,
    Image,
    ImageQuery,
    Placeholder,
    RenditionInfo,
)
from service.ports import ImageRepository
from tests.support.images import add_ready, make_image

SMALLEST = RenditionInfo(size=256, format="jpeg", width=256, height=171)
PLACEHOLDER = Placeholder(blurhash="LEHV6nWB2yk8pyo0adR*.7kCMdnj", dominant_color="#336699")
SINCE_2024 = datetime(2024, 1, 1, tzinfo=UTC)


def captured(image: Image) -> Image:
    """With a capture time: listed by capture time too."""
    return replace(image, exif=ExifSummary(taken_at="2024-05-06T07:08:09+02:00", make="Canon"))


def listings(tag: str) -> list[ImageQuery]:
    """Every listing an image of alice's with ``tag`` and a capture time is in."""
    return [
        ImageQuery(),
        ImageQuery(user_id="alice"),
        ImageQuery(tags=(tag,)),
        ImageQuery(tags=(tag,), content_type="image/jpeg"),
        ImageQuery(user_id="alice", tags=(tag,)),
        ImageQuery(user_id="alice", taken_from=SINCE_2024),
        ImageQuery(taken_from=SINCE_2024, taken_to=datetime(2024, 6, 1, tzinfo=UTC)),
    ]


def stored(repository: ImageRepository, image_id: str) -> Image:
    image = repository.get(image_id)
    assert image is not None
    return image


def assert_listed_as_stored(repository: ImageRepository, image: Image, tag: str) -> None:
    for query in listings(tag):
        assert repository.search(query, None).items == [image], query


def test_the_placeholder_is_set_on_the_image_and_every_listing_without_a_new_version(
    repository: ImageRepository,
) -> None:
    image = add_ready(repository, captured(make_image(tags=("t",))))
    assert (image.blurhash, image.dominant_color) == (None, None)

    repository.add_rendition(image.image_id, SMALLEST, placeholder=PLACEHOLDER)

    after = stored(repository, image.image_id)
    assert (after.blurhash, after.dominant_color) == (
        PLACEHOLDER.blurhash,
        PLACEHOLDER.dominant_color,
    )
    assert after.renditions == (SMALLEST,)
    assert after.version == image.version
    assert after == replace(
        image,
        blurhash=PLACEHOLDER.blurhash,
        dominant_color=PLACEHOLDER.dominant_color,
        renditions=(SMALLEST,),
    )
    assert_listed_as_stored(repository, after, "t")


def test_recording_it_again_changes_nothing(repository: ImageRepository) -> None:
    image = add_ready(repository, captured(make_image(tags=("t",))))
    repository.add_rendition(image.image_id, SMALLEST, placeholder=PLACEHOLDER)
    first = stored(repository, image.image_id)

    repository.add_rendition(image.image_id, SMALLEST, placeholder=PLACEHOLDER)
    repository.add_rendition(image.image_id, SMALLEST)  # a thumbnail request: no placeholder

    assert stored(repository, image.image_id) == first
    assert_listed_as_stored(repository, first, "t")


def test_a_placeholder_comes_to_a_rendition_already_recorded(repository: ImageRepository) -> None:
    # GIVEN the smallest rendition recorded by a thumbnail request before the job ran
    image = add_ready(repository, captured(make_image(tags=("t",))))
    repository.add_rendition(image.image_id, SMALLEST)
    assert stored(repository, image.image_id).blurhash is None

    # WHEN the job records it with the placeholder
    repository.add_rendition(image.image_id, SMALLEST, placeholder=PLACEHOLDER)

    # THEN the placeholder is set, the rendition recorded once
    after = stored(repository, image.image_id)
    assert (after.blurhash, after.renditions) == (PLACEHOLDER.blurhash, (SMALLEST,))
    assert after.version == image.version
    assert_listed_as_stored(repository, after, "t")


def test_an_edit_keeps_the_placeholder_in_every_listing(repository: ImageRepository) -> None:
    image = add_ready(repository, captured(make_image(tags=("t",))))
    repository.add_rendition(image.image_id, SMALLEST, placeholder=PLACEHOLDER)
    before = stored(repository, image.image_id)

    patched = repository.replace(
        before, replace(before, tags=("u",), description="new", version=before.version + 1)
    )

    assert (patched.blurhash, patched.dominant_color) == (
        PLACEHOLDER.blurhash,
        PLACEHOLDER.dominant_color,
    )
    assert stored(repository, image.image_id) == patched
    assert_listed_as_stored(repository, patched, "u")
    assert repository.search(ImageQuery(tags=("t",)), None).items == []


def test_no_placeholder_for_an_image_hidden_or_never_published(
    repository: ImageRepository,
) -> None:
    hidden = add_ready(repository, make_image(tags=("t",)))
    repository.hide(hidden)
    never = make_image(minutes=5)

    for image_id in (hidden.image_id, never.image_id):
        with pytest.raises(ImageConflict):
            repository.add_rendition(image_id, SMALLEST, placeholder=PLACEHOLDER)

    after = stored(repository, hidden.image_id)
    assert (after.blurhash, after.renditions) == (None, ())
    assert repository.get(never.image_id) is None
