"""The /uploads endpoints: upload sessions, where the client sends the bytes to S3 itself."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import url_for
from flask.views import MethodView

from service.domain import rules
from service.domain.errors import InvalidInput
from service.domain.sessions import (
    NewUpload,
    SessionProgress,
    SessionStatus,
    UploadSession,
    signed_parts,
)
from service.entrypoints.api.auth import caller
from service.entrypoints.api.context import upload_service
from service.entrypoints.api.idempotency import HEADER_PARAMETER, idempotent
from service.entrypoints.api.images_blueprint import ImagesBlueprint
from service.entrypoints.api.session_schemas import (
    CompleteSchema,
    NewUploadSchema,
    PartNumbersSchema,
    SessionSchema,
    SignedPartsSchema,
    TicketSchema,
)

blp = ImagesBlueprint(
    "uploads", __name__, url_prefix="/uploads", description="Upload sessions: bytes straight to S3"
)
# How soon a client watching a PROCESSING session asks again: most jobs take about a second.
RETRY_AFTER_SECONDS = 1
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
        """The session: the parts S3 already holds (to resume an interrupted upload), then
        PROCESSING, READY (image_id) or FAILED (failure)"""
        session, parts = upload_service().status(caller(), upload_id)
        return SessionProgress(session, parts), 200, watch_headers(session)

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
    @blp.response(202, SessionSchema)
    @blp.alt_response(200, description="The session had already finished: READY or FAILED")
    @_documents(*ERRORS, HTTPStatus.BAD_REQUEST)
    def post(self, body: dict[str, Any], upload_id: str) -> Any:
        """Hand what arrived to the worker (with the part ETags if multipart); watch the
        session (Location) until it is READY or FAILED"""
        parts = [(p["part_number"], p["etag"]) for p in body["parts"]]
        session = upload_service().complete(caller(), upload_id, parts)
        status = 200 if session.status.finished else 202
        return SessionProgress(session, []), status, watch_headers(session)


def watch_headers(session: UploadSession, endpoint: str = "uploads.UploadById") -> dict[str, str]:
    """While the session is PROCESSING: where to watch it (``endpoint``'s URL) and when."""
    if session.status is not SessionStatus.PROCESSING:
        return {}
    return {
        "Location": url_for(endpoint, upload_id=session.upload_id),
        "Retry-After": str(RETRY_AFTER_SECONDS),
    }
