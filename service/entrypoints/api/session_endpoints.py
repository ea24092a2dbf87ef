"""The /uploads endpoints: upload sessions, where the client sends the bytes to S3 itself."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import url_for
from flask.views import MethodView

from service.domain import rules
from service.domain.errors import InvalidInput
from service.domain.sessions import NewUpload, SessionProgress, signed_parts
from service.entrypoints.api import inputs
from service.entrypoints.api.auth import caller
from service.entrypoints.api.context import upload_service
from service.entrypoints.api.idempotency import HEADER_PARAMETER, idempotent
from service.entrypoints.api.image_schemas import ImageSchema
from service.entrypoints.api.images_blueprint import ImagesBlueprint
from service.entrypoints.api.session_schemas import (
    CompleteSchema,
    NewUploadSchema,
    PartNumbersSchema,
    SessionSchema,
    SignedPartsSchema,
    TicketSchema,
)
from service.entrypoints.api.shown import shown

blp = ImagesBlueprint(
    "uploads", __name__, url_prefix="/uploads", description="Upload sessions: bytes straight to S3"
)
UPLOAD_ID = {"in": "path", "name": "upload_id", "description": "the session's id"}
ERRORS = (
    HTTPStatus.UNAUTHORIZED,
    HTTPStatus.NOT_FOUND,
    HTTPStatus.CONFLICT,
    HTTPStatus.GONE,
    HTTPStatus.UNPROCESSABLE_ENTITY,
)


def _documents(*statuses: HTTPStatus) -> Any:
    def decorate(view: Any) -> Any:
        for status in statuses:
            view = blp.alt_response(status.value, response=status.name)(view)
        return view

    return decorate


def new_upload(body: dict[str, Any]) -> NewUpload:
    content_type = rules.content_type(body["content_type"])
    if content_type is None:
        raise InvalidInput("content_type is required", {"content_type": ["an image type"]})
    return NewUpload(
        user_id=rules.user_id(body["user_id"]) if "user_id" in body else None,
        filename=body["filename"],
        content_type=content_type,
        size=body["size"],
        sha256=body["sha256"].lower() if "sha256" in body else None,
        description=rules.description(body["description"]),
        tags=rules.tags(body["tags"]),
        metadata=rules.metadata(body["metadata"]),
    )


@blp.route("")
class Uploads(MethodView):
    @idempotent
    @blp.doc(parameters=[HEADER_PARAMETER])
    @blp.arguments(NewUploadSchema)
    @blp.response(201, TicketSchema)
    @_documents(
        HTTPStatus.UNAUTHORIZED,
        HTTPStatus.FORBIDDEN,
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
        HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
        HTTPStatus.UNPROCESSABLE_ENTITY,
    )
    def post(self, body: dict[str, Any]) -> Any:
        """Start an upload session: a presigned POST, or presigned parts above the threshold"""
        return upload_service().open(caller(), new_upload(body)), 201


@blp.route("/<upload_id>", parameters=[UPLOAD_ID])
class UploadById(MethodView):
    @blp.response(200, SessionSchema)
    @_documents(HTTPStatus.UNAUTHORIZED, HTTPStatus.NOT_FOUND)
    def get(self, upload_id: str) -> Any:
        """The session, with the parts S3 already holds (to resume an interrupted upload)"""
        return SessionProgress(*upload_service().status(caller(), upload_id))

    @blp.response(204)
    @_documents(HTTPStatus.UNAUTHORIZED, HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT)
    def delete(self, upload_id: str) -> None:
        """Abort the session and discard what was sent"""
        upload_service().abort(caller(), upload_id)


@blp.route("/<upload_id>/parts", parameters=[UPLOAD_ID])
class UploadParts(MethodView):
    @blp.arguments(PartNumbersSchema)
    @blp.response(200, SignedPartsSchema)
    @_documents(*ERRORS)
    def post(self, body: dict[str, Any], upload_id: str) -> Any:
        """Sign part URLs again (missing parts, or URLs that expired)"""
        urls = upload_service().sign_parts(caller(), upload_id, body["part_numbers"])
        return {"parts": signed_parts(urls)}


@blp.route("/<upload_id>/complete", parameters=[UPLOAD_ID])
class UploadComplete(MethodView):
    @idempotent
    @blp.doc(parameters=[HEADER_PARAMETER])
    @blp.arguments(CompleteSchema)
    @blp.response(201, ImageSchema)
    @blp.alt_response(200, description="The same bytes are already one of the user's images")
    @_documents(*ERRORS, HTTPStatus.BAD_REQUEST, HTTPStatus.UNSUPPORTED_MEDIA_TYPE)
    def post(self, body: dict[str, Any], upload_id: str) -> Any:
        """Check what arrived and publish it as an image (with the part ETags if multipart)"""
        parts = [(p["part_number"], p["etag"]) for p in body["parts"]]
        done = upload_service().complete(caller(), upload_id, parts)
        image = done.image
        headers = {
            "Location": url_for("images.ImageById", image_id=image.image_id),
            "ETag": inputs.etag(image),
        }
        if done.duplicate:
            return shown(image, duplicate=True), 200, headers
        return shown(image), 201, headers
