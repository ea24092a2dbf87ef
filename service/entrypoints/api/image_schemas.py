"""Marshmallow schemas of the image endpoints: the shapes of requests and responses (and of
the OpenAPI document)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

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

from service.domain.model import (
    ACCEPTED_CONTENT_TYPES,
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
    MAX_DESCRIPTION_LENGTH,
    MAX_FILTER_TAGS,
    MAX_JSON_BODY_BYTES,
    MAX_METADATA_KEYS,
    MAX_METADATA_VALUE_LENGTH,
    MAX_PAGE_SIZE,
    MAX_TAGS,
    METADATA_KEY_PATTERN,
)
from service.usecases.batch import MAX_BATCH_IDS, BatchVerb, ItemResult

if TYPE_CHECKING:
    from service.entrypoints.api.shown import ShownImage

from service.entrypoints.api.input_fields import (
    Digits,
    ImageFile,
    IsoDateTime,
    JsonObject,
    TagList,
    anchored,
    json_tags,
    user_id_field,
)

RESERVED_FORM_FIELDS = {"image", "user_id", "description", "tags", "metadata"}


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
    description = fields.String(load_default="", metadata={"maxLength": MAX_DESCRIPTION_LENGTH})
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

    description = fields.String(metadata={"maxLength": MAX_DESCRIPTION_LENGTH})
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
        metadata={
            "description": "longest side in pixels: one of RENDITION_SIZES (default: the smallest)"
        },
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


class SimilarImageSchema(Schema):
    distance = fields.Integer(
        metadata={"description": "bits of the two perceptual hashes that differ (0 to 3)"}
    )
    image = fields.Nested(ImageSchema)


class SimilarImagesSchema(Schema):
    items = fields.List(fields.Nested(SimilarImageSchema))


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
