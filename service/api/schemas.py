"""Marshmallow schemas: the shapes of requests and responses (and of the OpenAPI document)."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

from flask_smorest.fields import Upload
from marshmallow import (
    INCLUDE,
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_dump,
    pre_dump,
    validate,
    validates_schema,
)
from werkzeug.datastructures import FileStorage

from service.batch import MAX_BATCH_IDS, BatchVerb, ItemResult
from service.model import DEFAULT_RENDITION_SIZES, IMAGE_ID_PATTERN, RENDITION_FORMATS, Image
from service.rules import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

if TYPE_CHECKING:
    from service.api.shown import ShownImage

RESERVED_FORM_FIELDS = {"image", "user_id", "description", "tags", "metadata"}


def json_value(text: str | bytes) -> Any:
    """``json.loads``, with what Python cannot hold - nesting past its recursion limit, an integer
    of more digits than it converts - as a ValidationError. Malformed JSON still raises
    ``json.JSONDecodeError``."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValidationError("JSON nested too deeply") from None
    except json.JSONDecodeError:
        raise
    except ValueError as error:
        if isinstance(error, UnicodeDecodeError):
            raise
        digits = sys.get_int_max_str_digits()
        raise ValidationError(f"a JSON number has more than {digits} digits") from None


class TagList(fields.List):  # type: ignore[type-arg]
    """Tags as a JSON list (``'["a", "b"]'``), repeated fields, or comma-separated text."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(fields.String(), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[Any]:
        values = value if isinstance(value, list | tuple) else [value]
        tags: list[str] = []
        for item in values:
            if not isinstance(item, str):
                raise ValidationError("tags must be strings")
            text = item.strip()
            if text.startswith("["):
                try:
                    parsed = json_value(text)
                except ValueError:
                    raise ValidationError("tags is not a valid JSON list") from None
                if not isinstance(parsed, list) or not all(isinstance(t, str) for t in parsed):
                    raise ValidationError("tags must be a list of strings")
                tags.extend(parsed)
            else:
                tags.extend(part for part in text.split(",") if part.strip())
        return tags


class JsonObject(fields.Field):  # type: ignore[type-arg]
    """A JSON object, given either as a form field holding JSON text or as a JSON value."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            try:
                value = json_value(value)
            except ValueError:
                raise ValidationError("metadata is not valid JSON") from None
        if not isinstance(value, dict):
            raise ValidationError("metadata must be a JSON object")
        return value


class Digits(fields.Integer):
    """An integer; in a query, ASCII digits only (``int()`` also takes ``+5``, ``1_0``, `` 5``
    and digits of other scripts)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, str) and not (value.isascii() and value.isdigit()):
            raise self.make_error("invalid")
        return int(super()._deserialize(value, attr, data, **kwargs))


class IsoDateTime(fields.Field):  # type: ignore[type-arg]
    """ISO 8601 date or date-time; no zone means UTC. A bare date is its first or last instant."""

    def __init__(self, *, end_of_day: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._end_of_day = end_of_day

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        text = str(value).strip()
        try:
            # A date alone, extended (2026-11-01) or basic (20261101), is a whole day.
            day = date.fromisoformat(text)
        except ValueError:
            day = None
        try:
            if day is not None:
                moment = datetime.combine(day, time.max if self._end_of_day else time.min)
            else:
                moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValidationError("not an ISO 8601 date or date-time") from None
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise ValidationError("outside years 1 to 9999 once converted to UTC") from None


class ImageFile(Upload):  # type: ignore[misc]
    """The uploaded file; a plain text field of the same name is not one."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, FileStorage):
            raise ValidationError("must be a file (multipart/form-data file part)")
        return value


class UploadSchema(Schema):
    """The multipart/form-data body of an upload."""

    class Meta:
        # Extra form fields are kept as custom metadata (see README).
        unknown = INCLUDE

    image = ImageFile(required=True, metadata={"description": "the image file"})
    user_id = fields.String(
        metadata={
            "example": "user123",
            "description": "the owner: required with AUTH_MODE=none; when signed in, optional "
            "and, if given, the signed-in user",
        }
    )
    description = fields.String(load_default="")
    tags = TagList(load_default=list, metadata={"example": '["nature", "sunset"]'})
    metadata = JsonObject(load_default=dict, metadata={"description": "custom fields (JSON)"})


class ImageChangesSchema(Schema):
    class Meta:
        unknown = RAISE

    description = fields.String()
    tags = fields.List(fields.String())
    metadata = JsonObject()

    @validates_schema
    def _not_empty(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data:
            raise ValidationError("give at least one of description, tags, metadata")


class ImageQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    user_id = fields.String()
    tags = TagList(metadata={"description": "repeatable and comma-separated; all must match"})
    content_type = fields.String(metadata={"example": "image/jpeg"})
    date_from = IsoDateTime(
        metadata={"type": "string", "format": "date-time", "example": "2026-11-01"}
    )
    date_to = IsoDateTime(
        end_of_day=True,
        metadata={"type": "string", "format": "date-time", "example": "2026-11-30T23:59:59Z"},
    )
    taken_from = IsoDateTime(
        metadata={
            "type": "string",
            "format": "date-time",
            "example": "2024-05-01",
            "description": "capture time (EXIF) at or after; with user_id, or with taken_to",
        }
    )
    taken_to = IsoDateTime(
        end_of_day=True,
        metadata={
            "type": "string",
            "format": "date-time",
            "example": "2024-05-31",
            "description": "capture time (EXIF) at or before; with user_id, or with taken_from",
        },
    )
    limit = Digits(
        load_default=DEFAULT_PAGE_SIZE, validate=validate.Range(min=1, max=MAX_PAGE_SIZE)
    )
    cursor = fields.String(validate=validate.Length(max=2048))
    ids = fields.String(
        validate=validate.Length(max=MAX_BATCH_IDS * 27),
        metadata={"description": "up to 100 comma-separated ids: those images, no other filter"},
    )


class DownloadQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    redirect = fields.Boolean(load_default=False)


class ThumbnailQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    size = Digits(
        load_default=min(DEFAULT_RENDITION_SIZES),
        metadata={"description": "longest side in pixels: one of RENDITION_SIZES"},
    )
    format = fields.String(
        load_default="auto",
        validate=validate.OneOf(("auto", *RENDITION_FORMATS)),
        metadata={"description": "auto: the best the Accept header allows (JPEG otherwise)"},
    )
    redirect = fields.Boolean(
        load_default=True, metadata={"description": "false: the URL as JSON instead of a 302"}
    )


class RenditionLinkSchema(Schema):
    url = fields.String()
    expires_in = fields.Integer(metadata={"description": "seconds the URL stays valid"})
    width = fields.Integer()
    height = fields.Integer()
    format = fields.String()


class ExifSchema(Schema):
    taken_at = fields.String(
        allow_none=True, metadata={"description": "DateTimeOriginal, with its offset if known"}
    )
    make = fields.String(allow_none=True)
    model = fields.String(allow_none=True)
    lens = fields.String(allow_none=True)
    exposure_time = fields.String(allow_none=True, metadata={"example": "1/125"})
    f_number = fields.Float(allow_none=True)
    iso = fields.Integer(allow_none=True)
    focal_length = fields.Float(allow_none=True, metadata={"description": "millimetres"})
    gps_present = fields.Boolean(metadata={"description": "the upload carried GPS data"})


class LocationSchema(Schema):
    latitude = fields.Float()
    longitude = fields.Float()


class RenditionSchema(Schema):
    size = fields.Integer()
    format = fields.String()
    width = fields.Integer()
    height = fields.Integer()


class ImageSchema(Schema):
    """Dumps an Image (service.model); field order is the order of the JSON answer."""

    image_id = fields.String()
    version = fields.Integer(metadata={"description": "bumped by every change; the ETag"})
    user_id = fields.String()
    description = fields.String()
    tags = fields.List(fields.String())
    metadata = fields.Dict()
    content_type = fields.String()
    size_bytes = fields.Integer()
    width = fields.Integer()
    height = fields.Integer()
    sha256 = fields.String()
    original_filename = fields.String()
    status = fields.String()  # ImageStatus is a StrEnum: its value
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    pixel_width = fields.Integer(metadata={"description": "as stored, before EXIF orientation"})
    pixel_height = fields.Integer()
    exif = fields.Nested(ExifSchema, allow_none=True)
    location = fields.Nested(
        LocationSchema,
        allow_none=True,
        metadata={"description": "GPS position, rounded; present for the owner only"},
    )
    blurhash = fields.String(allow_none=True)
    dominant_color = fields.String(allow_none=True, metadata={"example": "#7f6a4c"})
    renditions = fields.List(fields.Nested(RenditionSchema))
    duplicate_of = fields.String(
        metadata={
            "description": "only on an upload answered 200: the user's image of the same bytes"
        }
    )

    @pre_dump
    def _image(self, shown: ShownImage, **_: Any) -> Image:
        image = shown.image
        # Older images have no separate stored size: it is the displayed one.
        return replace(
            image,
            pixel_width=image.width if image.pixel_width is None else image.pixel_width,
            pixel_height=image.height if image.pixel_height is None else image.pixel_height,
            renditions=tuple(sorted(image.renditions, key=lambda r: (r.size, r.format))),
        )

    @post_dump(pass_original=True)
    def _callers_fields(self, data: dict[str, Any], shown: ShownImage, **_: Any) -> dict[str, Any]:
        if not shown.with_location:
            del data["location"]
        if shown.duplicate_of is not None:
            data["duplicate_of"] = shown.duplicate_of
        return data


class ImageListSchema(Schema):
    """Dumps a ListResult (service.images)."""

    items = fields.List(fields.Nested(ImageSchema))
    next_cursor = fields.String(allow_none=True)


class DownloadLinkSchema(Schema):
    """Dumps a DownloadLink (service.images)."""

    download_url = fields.String(attribute="url")
    expires_in = fields.Integer(metadata={"description": "seconds the URL stays valid"})


class HealthSchema(Schema):
    status = fields.String()
    warnings = fields.List(fields.String())


class BatchSchema(Schema):
    class Meta:
        unknown = RAISE

    action = fields.String(
        required=True, validate=validate.OneOf([verb.value for verb in BatchVerb])
    )
    ids = fields.List(
        fields.String(validate=validate.Regexp(f"^{IMAGE_ID_PATTERN.pattern}$")),
        required=True,
        validate=validate.Length(min=1, max=MAX_BATCH_IDS),
    )
    tags = TagList(load_default=list, metadata={"description": "for add_tags and remove_tags"})


class BatchResultSchema(Schema):
    image_id = fields.String()
    result = fields.String(metadata={"description": ", ".join(r.value for r in ItemResult)})
    message = fields.String(allow_none=True)


class BatchResultsSchema(Schema):
    results = fields.List(fields.Nested(BatchResultSchema))
