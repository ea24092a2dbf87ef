"""Request schemas: tag lists, dates, JSON objects, and the listing / PATCH shapes."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from marshmallow import ValidationError
from msgspec.structs import replace
from werkzeug.datastructures import FileStorage

from service.domain import rules
from service.domain.errors import InvalidInput
from service.domain.model import ExifSummary, GeoPoint, ImageStatus, RenditionInfo
from service.entrypoints.api.image_schemas import (
    ImageChangesSchema,
    ImageListSchema,
    ImageQuerySchema,
    ImageSchema,
    UploadSchema,
)
from service.entrypoints.api.input_fields import IsoDateTime, JsonObject, TagList
from service.entrypoints.api.shown import ShownImage
from tests.support.images import make_image

TAGS = TagList(max_tags=20)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('["nature", "sunset"]', ["nature", "sunset"]),
        (' ["a b"] ', ["a b"]),
        ("[]", []),
        (["nature", "sunset"], ["nature", "sunset"]),
        ("nature,sunset", ["nature", "sunset"]),
        ("nature, sunset", ["nature", " sunset"]),  # rules.tag() trims the space later
        (["a,b", '["c"]', "d"], ["a", "b", "c", "d"]),
        ("single", ["single"]),
    ],
)
def test_tag_list_accepts_json_repeated_and_comma_separated(
    value: object, expected: list[str]
) -> None:
    assert TAGS.deserialize(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "[1, 2]",
        "[not json",
        '["a", null]',
        '[["a"]]',
        [1],
        ["a"] * 21,
        "a," * 20 + "a",  # 21 tags in one value
    ],
)
def test_tag_list_rejects_what_is_not_a_list_of_tags(value: object) -> None:
    with pytest.raises(ValidationError):
        TAGS.deserialize(value)


@pytest.mark.parametrize(
    "value",
    [
        '["a,b"]',  # a comma inside a tag of a JSON list
        "nature, sunset,,",  # an empty tag between commas
        "",
        '{"a":1}',
    ],
)
def test_what_is_a_list_but_not_of_tags_is_refused_by_the_input_rules(value: object) -> None:
    # The field reads the list; the rules, applied once as the view makes the domain's values,
    # check each tag.
    with pytest.raises(InvalidInput):
        rules.tags([str(tag) for tag in TAGS.deserialize(value)])


START = IsoDateTime()
END = IsoDateTime(end_of_day=True)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        (START, "2026-11-05", datetime(2026, 11, 5, tzinfo=UTC)),
        (END, "2026-11-05", datetime(2026, 11, 5, 23, 59, 59, 999999, tzinfo=UTC)),
        (START, "2026-11-05T10:30:00Z", datetime(2026, 11, 5, 10, 30, tzinfo=UTC)),
        (END, "2026-11-05T10:30:00Z", datetime(2026, 11, 5, 10, 30, tzinfo=UTC)),
        (START, "2026-11-05T10:30:00+02:00", datetime(2026, 11, 5, 8, 30, tzinfo=UTC)),
        (START, "2026-11-05T22:00:00-05:00", datetime(2026, 11, 6, 3, 0, tzinfo=UTC)),
        (START, "2026-11-05T10:30:00", datetime(2026, 11, 5, 10, 30, tzinfo=UTC)),
        (START, "2026-11-05 10:30:00.250", datetime(2026, 11, 5, 10, 30, 0, 250000, tzinfo=UTC)),
        (START, " 2026-11-05 ", datetime(2026, 11, 5, tzinfo=UTC)),
        (START, "20261105", datetime(2026, 11, 5, tzinfo=UTC)),  # ISO 8601 basic format
        (END, "20261105", datetime(2026, 11, 5, 23, 59, 59, 999999, tzinfo=UTC)),
    ],
)
def test_iso_date_time_is_converted_to_utc(
    field: IsoDateTime, value: str, expected: datetime
) -> None:
    result = field.deserialize(value)

    assert result == expected
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    "value", ["yesterday", "2026-13-01", "2026-02-30", "2026/11/05", "05-11-2026", "", "T10:00"]
)
def test_iso_date_time_rejects_what_is_not_iso_8601(value: str) -> None:
    with pytest.raises(ValidationError):
        START.deserialize(value)


@pytest.mark.parametrize(
    ("value", "expected"), [('{"a": 1}', {"a": 1}), ({"b": "x"}, {"b": "x"}), ("{}", {})]
)
def test_json_object_accepts_text_or_a_dict(value: object, expected: dict[str, object]) -> None:
    assert JsonObject().deserialize(value) == expected


@pytest.mark.parametrize("value", ["[1]", '"x"', "{oops", "1", [1], 5])
def test_json_object_rejects_anything_else(value: object) -> None:
    with pytest.raises(ValidationError):
        JsonObject().deserialize(value)


def test_listing_query_defaults_and_date_bounds() -> None:
    loaded = ImageQuerySchema().load(
        {"date_from": "2026-11-01", "date_to": "2026-11-30", "tags": ["a", "b,c"]}
    )

    assert loaded == {
        "date_from": datetime(2026, 11, 1, tzinfo=UTC),
        "date_to": datetime(2026, 11, 30, 23, 59, 59, 999999, tzinfo=UTC),
        "tags": ["a", "b", "c"],
        "limit": 20,
    }


@pytest.mark.parametrize(
    "args",
    [{"limit": "0"}, {"limit": "101"}, {"limit": "x"}, {"page": "2"}, {"cursor": "c" * 2049}],
)
def test_listing_query_rejects_bad_arguments(args: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        ImageQuerySchema().load(args)


def test_upload_form_keeps_extra_fields() -> None:
    image = FileStorage(io.BytesIO(b"x"), filename="a.jpg")
    loaded = UploadSchema().load({"image": image, "user_id": "u", "camera": "x100"})

    assert loaded == {
        "image": image,
        "user_id": "u",
        "camera": "x100",
        "description": "",
        "tags": [],
        "metadata": {},
    }


@pytest.mark.parametrize("body", [{}, {"unknown": 1}, {"tags": "a"}, {"description": 1}])
def test_changes_schema_needs_a_known_field(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ImageChangesSchema().load(body)


def test_changes_schema_loads_each_field() -> None:
    body = {"description": "d", "tags": ["a"], "metadata": {"k": 1}}

    assert ImageChangesSchema().load(body) == body


def test_image_schema_dumps_an_image_as_the_api_answers_it() -> None:
    image = replace(
        make_image(tags=("a", "b"), status=ImageStatus.READY),
        renditions=(RenditionInfo(1024, "webp", 2, 3), RenditionInfo(256, "jpeg", 2, 3)),
    )

    dumped = ImageSchema().dump(ShownImage(image, with_location=False))

    assert list(dumped.items()) == [
        ("image_id", image.image_id),
        ("version", 1),
        ("user_id", "alice"),
        ("description", "d"),
        ("tags", ["a", "b"]),
        ("metadata", {"camera": "x", "iso": 200, "ratio": 1.5, "flag": True, "none": None}),
        ("content_type", "image/jpeg"),
        ("size_bytes", 10),
        ("width", 2),
        ("height", 3),
        ("sha256", "0" * 64),
        ("original_filename", "photo.jpg"),
        ("status", "READY"),
        ("created_at", "2026-11-01T12:00:00+00:00"),
        ("updated_at", "2026-11-01T12:00:00+00:00"),
        ("pixel_width", 2),
        ("pixel_height", 3),
        ("exif", None),
        ("blurhash", None),
        ("dominant_color", None),
        (
            "renditions",
            [
                {"size": 256, "format": "jpeg", "width": 2, "height": 3},
                {"size": 1024, "format": "webp", "width": 2, "height": 3},
            ],
        ),
    ]
    assert type(dumped["status"]) is str


def test_image_schema_shows_the_location_only_when_the_caller_may_see_it() -> None:
    image = replace(make_image(), location=GeoPoint(48.8582, 2.2944))

    owner = ImageSchema().dump(ShownImage(image, with_location=True))
    other = ImageSchema().dump(ShownImage(image, with_location=False))

    assert owner["location"] == {"latitude": 48.8582, "longitude": 2.2944}
    assert "location" not in other
    assert ImageSchema().dump(ShownImage(make_image(), with_location=True))["location"] is None


def test_image_schema_shows_whether_there_was_gps_only_to_who_may_see_the_location() -> None:
    image = replace(make_image(), exif=ExifSummary(make="Canon", gps_present=True))

    owner = ImageSchema().dump(ShownImage(image, with_location=True))
    other = ImageSchema().dump(ShownImage(image, with_location=False))

    assert owner["exif"]["gps_present"] is True
    assert other["exif"]["make"] == "Canon"
    assert "gps_present" not in other["exif"]


def test_image_schema_names_the_duplicate_only_on_a_duplicate_upload() -> None:
    image = make_image()

    assert "duplicate_of" not in ImageSchema().dump(ShownImage(image, with_location=False))
    duplicate = ImageSchema().dump(ShownImage(image, False, duplicate_of=image.image_id))
    assert duplicate["duplicate_of"] == image.image_id


def test_image_list_schema_dumps_shown_images() -> None:
    image = ShownImage(make_image(status=ImageStatus.READY), with_location=False)

    dumped = ImageListSchema().dump({"items": [image], "next_cursor": None})

    assert dumped == {"items": [ImageSchema().dump(image)], "next_cursor": None}
