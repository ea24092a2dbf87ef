"""Marshmallow schemas: the shapes of requests and responses (and of the OpenAPI document)."""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any, ClassVar

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
from msgspec.structs import replace
from werkzeug.datastructures import FileStorage

from service.domain.model import (
    ACCEPTED_CONTENT_TYPES,
    DEFAULT_RENDITION_SIZES,
    IMAGE_ID_PATTERN,
    RENDITION_FORMATS,
    Image,
)
from service.domain.rules import (
    CONTENT_TYPE_ALIASES,
    CURSOR_PATTERN,
    DEFAULT_PAGE_SIZE,
    FORM_MEMORY_BYTES,
    MAX_CURSOR_LENGTH,
    MAX_DATE_TEXT_LENGTH,
    MAX_DESCRIPTION_LENGTH,
    MAX_FILTER_TAGS,
    MAX_JSON_BODY_BYTES,
    MAX_METADATA_KEYS,
    MAX_METADATA_VALUE_LENGTH,
    MAX_PAGE_SIZE,
    MAX_TAG_LENGTH,
    MAX_TAGS,
    MAX_USER_ID_LENGTH,
    METADATA_KEY_PATTERN,
    TAG_AS_SENT_PATTERN,
    USER_ID_PATTERN,
)
from service.usecases.batch import MAX_BATCH_IDS, BatchVerb, ItemResult

if TYPE_CHECKING:
    from service.entrypoints.api.shown import ShownImage

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


def anchored(pattern: re.Pattern[str]) -> str:
    """A fullmatch pattern of rules.py as a JSON Schema ``pattern`` (which searches)."""
    return f"^{pattern.pattern}$"


def tag_field() -> fields.String:
    """One tag as sent (rules.tag() then normalises it)."""
    return fields.String(
        validate=[
            validate.Length(max=MAX_TAG_LENGTH),
            validate.Regexp(anchored(TAG_AS_SENT_PATTERN), error="not a tag"),
        ],
        metadata={
            "description": (
                f"Letters and digits of any script, '-', '_' and spaces, at most "
                f"{MAX_TAG_LENGTH} characters. Normalised: spaces trimmed and collapsed, NFKC, "
                f"case-folded; a tag that is then longer than {MAX_TAG_LENGTH} characters or "
                "holds another character (the NFKC form of a few compatibility letters: "
                "'ŀ' is 'l·') is refused."
            )
        },
    )


def json_tags(**kwargs: Any) -> fields.List:  # type: ignore[type-arg]
    """Tags in a JSON body: an array of them, nothing else (forms and queries: TagList)."""
    return fields.List(tag_field(), validate=validate.Length(max=MAX_TAGS), **kwargs)


class TagList(fields.List):  # type: ignore[type-arg]
    """Tags: one per repeated field or parameter (as the OpenAPI document has it), or several in
    one, separated by commas or as a JSON list (``'["a", "b"]'``, the original design's form).
    At most ``max_tags`` in all, counted before they are normalised."""

    def __init__(self, *, max_tags: int, **kwargs: Any) -> None:
        spellings = (
            f"At most {max_tags} tags in all. One value may also hold several, separated by "
            "commas, or a JSON list of them."
        )
        metadata = {"description": spellings, **kwargs.pop("metadata", {})}
        super().__init__(
            tag_field(), validate=validate.Length(max=max_tags), metadata=metadata, **kwargs
        )

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[Any]:
        values = value if isinstance(value, list | tuple) else [value]
        tags: list[str] = []
        for item in values:
            if not isinstance(item, str):
                raise ValidationError("tags must be strings")
            if item.strip().startswith("["):
                try:
                    parsed = json_value(item)
                except ValueError:
                    raise ValidationError("tags is not a valid JSON list") from None
                if not isinstance(parsed, list) or not all(isinstance(t, str) for t in parsed):
                    raise ValidationError("tags must be a list of strings")
                tags.extend(parsed)
            else:
                tags.extend(item.split(","))
        return list(super()._deserialize(tags, attr, data, **kwargs))


class MetadataValue(fields.Field):  # type: ignore[type-arg]
    """A custom field's value; rules.metadata() checks it (this field documents it)."""

    def __init__(self) -> None:
        super().__init__(
            allow_none=True,
            metadata={
                "type": ["string", "number", "boolean"],  # allow_none adds "null"
                "maxLength": MAX_METADATA_VALUE_LENGTH,
            },
        )


class JsonObject(fields.Dict):
    """Custom metadata: a JSON object, as a form field holding JSON text or as a JSON value."""

    def __init__(self, **kwargs: Any) -> None:
        key = fields.String(validate=validate.Regexp(anchored(METADATA_KEY_PATTERN)))
        super().__init__(
            keys=key,
            values=MetadataValue(),
            validate=validate.Length(max=MAX_METADATA_KEYS),
            **kwargs,
        )

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            try:
                value = json_value(value)
            except ValueError:
                raise ValidationError("metadata is not valid JSON") from None
        if not isinstance(value, dict):
            raise ValidationError("metadata must be a JSON object")
        return super()._deserialize(value, attr, data, **kwargs)  # type: ignore[no-untyped-call]


def user_id_field(**kwargs: Any) -> fields.String:
    return fields.String(
        validate=[
            validate.Length(min=1, max=MAX_USER_ID_LENGTH),
            validate.Regexp(anchored(USER_ID_PATTERN)),
        ],
        **kwargs,
    )


class Digits(fields.Integer):
    """An integer; in a query, ASCII digits only (``int()`` also takes ``+5``, ``1_0``, `` 5``
    and digits of other scripts)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, str) and not (value.isascii() and value.isdigit()):
            raise self.make_error("invalid")
        return int(super()._deserialize(value, attr, data, **kwargs))


class IsoDateTime(fields.Field):  # type: ignore[type-arg]
    """ISO 8601 date or date-time; no zone means UTC. A bare date is its first or last instant."""

    def __init__(
        self, *, end_of_day: bool = False, example: str = "2026-11-01", about: str = ""
    ) -> None:
        day = "its last instant" if end_of_day else "its first instant"
        super().__init__(
            metadata={
                "type": "string",
                "anyOf": [{"format": "date-time"}, {"format": "date"}],
                "maxLength": MAX_DATE_TEXT_LENGTH,
                "example": example,
                "description": (
                    f"{about + ' ' if about else ''}An RFC 3339 date-time, or a date alone: {day} "
                    "in UTC. Other ISO 8601 spellings are read too (20261101, a space for T, no "
                    "offset: UTC)."
                ),
            }
        )
        self._end_of_day = end_of_day

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if len(str(value)) > MAX_DATE_TEXT_LENGTH:
            raise ValidationError(f"at most {MAX_DATE_TEXT_LENGTH} characters")
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
        # Extra form fields are kept as custom metadata (see README): strings, under the names
        # metadata keys may have. openapi.ImageConverter adds these keywords to the document.
        unknown = INCLUDE
        openapi: ClassVar[dict[str, Any]] = {
            "propertyNames": fields.String(
                validate=validate.Regexp(anchored(METADATA_KEY_PATTERN))
            ),
            "additionalProperties": fields.String(
                validate=validate.Length(max=MAX_METADATA_VALUE_LENGTH)
            ),
            "maxProperties": len(RESERVED_FORM_FIELDS) + MAX_METADATA_KEYS,
            "description": (
                f"Other fields are custom fields, as if in metadata: at most {MAX_METADATA_KEYS} "
                "in all, and none both in metadata and as a field. At most "
                f"{FORM_MEMORY_BYTES} bytes per text field; the file at most MAX_FILE_SIZE "
                "(a setting)."
            ),
        }

    image = ImageFile(required=True, metadata={"description": "the image file"})
    user_id = user_id_field(
        metadata={
            "example": "user123",
            "description": "the owner: required with AUTH_MODE=none; when signed in, optional "
            "and, if given, the signed-in user",
        }
    )
    description = fields.String(
        load_default="", validate=validate.Length(max=MAX_DESCRIPTION_LENGTH)
    )
    tags = TagList(max_tags=MAX_TAGS, load_default=list, metadata={"example": ["nature", "sunset"]})
    metadata = JsonObject(
        load_default=dict, metadata={"description": "custom fields (a JSON object)"}
    )


class ImageChangesSchema(Schema):
    class Meta:
        unknown = RAISE
        openapi: ClassVar[dict[str, Any]] = {
            "minProperties": 1,
            "description": f"A JSON body of at most {MAX_JSON_BODY_BYTES} bytes.",
        }

    description = fields.String(validate=validate.Length(max=MAX_DESCRIPTION_LENGTH))
    tags = json_tags()
    metadata = JsonObject()

    @validates_schema
    def _not_empty(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data:
            raise ValidationError("give at least one of description, tags, metadata")


class ImageQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    user_id = user_id_field()
    tags = TagList(max_tags=MAX_FILTER_TAGS, metadata={"description": "All must match."})
    content_type = fields.String(
        validate=validate.OneOf([*ACCEPTED_CONTENT_TYPES, *CONTENT_TYPE_ALIASES]),
        metadata={"example": "image/jpeg"},
    )
    date_from = IsoDateTime(example="2026-11-01")
    date_to = IsoDateTime(end_of_day=True, example="2026-11-30T23:59:59Z")
    taken_from = IsoDateTime(
        example="2024-05-01",
        about="Capture time (EXIF) at or after; with user_id, or with taken_to.",
    )
    taken_to = IsoDateTime(
        end_of_day=True,
        example="2024-05-31",
        about="Capture time (EXIF) at or before; with user_id, or with taken_from.",
    )
    limit = Digits(
        load_default=DEFAULT_PAGE_SIZE, validate=validate.Range(min=1, max=MAX_PAGE_SIZE)
    )
    cursor = fields.String(
        validate=[
            validate.Length(min=1, max=MAX_CURSOR_LENGTH),
            validate.Regexp(anchored(CURSOR_PATTERN)),
        ],
        metadata={"description": "the next_cursor of the previous page (opaque)"},
    )
    ids = fields.String(
        validate=[
            validate.Length(max=MAX_BATCH_IDS * 27 - 1),  # 26 characters an id, commas between
            validate.Regexp(
                rf"^{IMAGE_ID_PATTERN.pattern}(,{IMAGE_ID_PATTERN.pattern})"
                rf"{{0,{MAX_BATCH_IDS - 1}}}$"
            ),
        ],
        metadata={
            "description": f"up to {MAX_BATCH_IDS} comma-separated ids: those images; no other "
            "filter (limit is ignored)"
        },
    )


class DownloadQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    redirect = fields.Boolean(load_default=False, truthy={"true", "1"}, falsy={"false", "0"})


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
    gps_present = fields.Boolean(
        metadata={"description": "the upload's EXIF carried GPS data; present for the owner only"}
    )


class LocationSchema(Schema):
    latitude = fields.Float()
    longitude = fields.Float()


class RenditionSchema(Schema):
    size = fields.Integer()
    format = fields.String()
    width = fields.Integer()
    height = fields.Integer()


class ImageSchema(Schema):
    """Dumps an Image (service.domain.model); field order is the order of the JSON answer."""

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
            if data.get("exif"):
                del data["exif"]["gps_present"]
        if shown.duplicate_of is not None:
            data["duplicate_of"] = shown.duplicate_of
        return data


class ImageListSchema(Schema):
    """Dumps a ListResult (service.usecases.images)."""

    items = fields.List(fields.Nested(ImageSchema))
    next_cursor = fields.String(allow_none=True)


class DownloadLinkSchema(Schema):
    """Dumps a DownloadLink (service.usecases.images)."""

    download_url = fields.String(attribute="url")
    expires_in = fields.Integer(metadata={"description": "seconds the URL stays valid"})


class HealthSchema(Schema):
    status = fields.String()
    warnings = fields.List(fields.String())


class BatchSchema(Schema):
    class Meta:
        unknown = RAISE
        # add_tags and remove_tags need a tag; openapi.ImageConverter adds this to the document.
        openapi: ClassVar[dict[str, Any]] = {
            "if": {"properties": {"action": {"const": BatchVerb.DELETE.value}}},
            "else": {"required": ["tags"], "properties": {"tags": {"minItems": 1}}},
        }

    action = fields.String(
        required=True, validate=validate.OneOf([verb.value for verb in BatchVerb])
    )
    ids = fields.List(
        fields.String(validate=validate.Regexp(f"^{IMAGE_ID_PATTERN.pattern}$")),
        required=True,
        validate=validate.Length(min=1, max=MAX_BATCH_IDS),
    )
    tags = json_tags(load_default=list, metadata={"description": "for add_tags and remove_tags"})


class BatchResultSchema(Schema):
    image_id = fields.String()
    result = fields.String(metadata={"description": ", ".join(r.value for r in ItemResult)})
    message = fields.String(allow_none=True)


class BatchResultsSchema(Schema):
    results = fields.List(fields.Nested(BatchResultSchema))
