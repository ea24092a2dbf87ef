"""Marshmallow schemas of the upload-session endpoints (``/uploads``)."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, fields, post_dump, validate

from service.domain.model import ACCEPTED_CONTENT_TYPES
from service.domain.rules import CONTENT_TYPE_ALIASES, MAX_DESCRIPTION_LENGTH
from service.domain.sessions import MAX_PART_SIZE, SessionProgress, SessionStatus
from service.entrypoints.api.input_fields import JsonObject, json_tags, user_id_field
from service.settings import MAX_FILE_SIZE_LIMIT

MAX_PARTS = -(-MAX_FILE_SIZE_LIMIT // MAX_PART_SIZE) * 8  # generous: part sizes start at 8 MiB


class NewUploadSchema(Schema):
    class Meta:
        unknown = RAISE

    filename = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    content_type = fields.String(
        required=True,
        validate=validate.OneOf([*ACCEPTED_CONTENT_TYPES, *CONTENT_TYPE_ALIASES]),
        metadata={"example": "image/jpeg"},
    )
    size = fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=MAX_FILE_SIZE_LIMIT),
        metadata={"description": "bytes; exactly what will be sent (MAX_FILE_SIZE at most)"},
    )
    sha256 = fields.String(
        validate=validate.Regexp("^[0-9a-fA-F]{64}$"),
        metadata={"description": "hex SHA-256 of the bytes, checked on complete"},
    )
    user_id = user_id_field(metadata={"description": "as for POST /images"})
    description = fields.String(load_default="", metadata={"maxLength": MAX_DESCRIPTION_LENGTH})
    tags = json_tags(load_default=list)
    metadata = JsonObject(load_default=dict)


class SignedPartSchema(Schema):
    part_number = fields.Integer()
    url = fields.String()


class TicketSchema(Schema):
    """Dumps a ``Ticket``: the fields of its method only."""

    upload_id = fields.String(attribute="session.upload_id")
    expires_at = fields.DateTime(attribute="session.expires_at")
    method = fields.String(metadata={"description": "POST (a form upload) or PUT (each part)"})
    url = fields.String(attribute="post.url", metadata={"description": "POST: where the form goes"})
    fields_ = fields.Dict(
        attribute="post.fields",
        data_key="fields",
        metadata={"description": "POST: the form fields, before the file"},
    )
    part_size = fields.Integer(metadata={"description": "PUT: bytes of every part but the last"})
    parts = fields.List(fields.Nested(SignedPartSchema))

    @post_dump
    def _only_its_method(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return {name: value for name, value in data.items() if value is not None}


class ReceivedPartSchema(Schema):
    part_number = fields.Integer(attribute="number")
    etag = fields.String()
    size = fields.Integer()


class SessionSchema(Schema):
    """Dumps a ``SessionProgress``."""

    upload_id = fields.String(attribute="session.upload_id")
    status = fields.String(attribute="session.status.value")
    expires_at = fields.DateTime(attribute="session.expires_at")
    size = fields.Integer(attribute="session.size")
    content_type = fields.String(attribute="session.content_type")
    part_size = fields.Integer(attribute="session.part_size")
    part_count = fields.Integer(attribute="session.part_count")
    parts = fields.List(fields.Nested(ReceivedPartSchema))
    missing_parts = fields.List(fields.Integer())
    image_id = fields.Method(
        "_image_id",
        allow_none=True,
        metadata={
            "type": "string",
            "description": "READY: the image (the user's own one when duplicate)",
        },
    )
    duplicate = fields.Boolean(attribute="session.duplicate")
    failure = fields.String(
        attribute="session.failure",
        allow_none=True,
        metadata={"description": "FAILED: why, for the owner; the bytes are gone"},
    )

    def _image_id(self, progress: SessionProgress) -> str | None:
        # Chosen when the job starts, but nothing to fetch until it is READY.
        ready = progress.session.status is SessionStatus.READY
        return progress.session.image_id if ready else None


class PartNumbersSchema(Schema):
    class Meta:
        unknown = RAISE

    part_numbers = fields.List(
        fields.Integer(validate=validate.Range(min=1, max=10_000)),
        required=True,
        validate=validate.Length(min=1, max=MAX_PARTS),
    )


class SignedPartsSchema(Schema):
    parts = fields.List(fields.Nested(SignedPartSchema))


class CompletedPartSchema(Schema):
    class Meta:
        unknown = RAISE

    part_number = fields.Integer(required=True, validate=validate.Range(min=1, max=10_000))
    etag = fields.String(required=True, validate=validate.Length(min=1, max=200))


class CompleteSchema(Schema):
    class Meta:
        unknown = RAISE

    parts = fields.List(
        fields.Nested(CompletedPartSchema),
        load_default=list,
        validate=validate.Length(max=MAX_PARTS),
    )
