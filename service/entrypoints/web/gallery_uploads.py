"""The gallery's drag-and-drop upload: upload sessions opened and completed for the page's
script, which sends the bytes straight to S3 in between, then watched until the service's
worker has processed them.

The same session bodies as ``POST /uploads`` and its ``complete`` (the API's schemas), but
authorised by the session cookie and a CSRF header instead of a bearer token. ``complete``
answers the session PROCESSING (202, with ``Location`` and ``Retry-After``, as the API does);
``GET /photo-uploads/{id}`` answers it again, and once it is READY the new tile, rendered as
the grid renders it, or once it is FAILED the reason, for the page to show.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from marshmallow import Schema, ValidationError

from service.domain.errors import InvalidInput
from service.domain.sessions import SessionStatus, UploadSession
from service.entrypoints.api.auth import caller
from service.entrypoints.api.context import image_service, upload_service
from service.entrypoints.api.session_endpoints import new_upload, watch_headers
from service.entrypoints.api.session_schemas import CompleteSchema, NewUploadSchema, TicketSchema
from service.entrypoints.web.blueprint import bp

# A FAILED session names its reason; this is for one that names none.
NO_REASON = "The upload could not be processed; upload it again"


@bp.post("/photo-uploads")
def start_upload() -> Any:
    ticket = upload_service().open(caller(), new_upload(_load(NewUploadSchema())))
    return TicketSchema().dump(ticket), 201


@bp.post("/photo-uploads/<upload_id>/complete")
def complete_upload(upload_id: str) -> Any:
    parts = [(p["part_number"], p["etag"]) for p in _load(CompleteSchema())["parts"]]
    session = upload_service().complete(caller(), upload_id, parts)
    return _answer(session, 200 if session.status.finished else 202)


@bp.get("/photo-uploads/<upload_id>")
def upload_progress(upload_id: str) -> Any:
    """The session as the page watches it: PROCESSING, then READY (its tile) or FAILED."""
    session, _ = upload_service().status(caller(), upload_id)
    return _answer(session, 200)


def _answer(session: UploadSession, status: int) -> Any:
    body: dict[str, Any] = {"upload_id": session.upload_id, "status": session.status.value}
    if session.status is SessionStatus.READY and session.image_id is not None:
        image = image_service().get(caller(), session.image_id)
        body |= {
            "image_id": image.image_id,
            "duplicate": session.duplicate,
            "tile": render_template("_tile.html", image=image),
        }
    elif session.status is SessionStatus.FAILED:
        body["failure"] = session.failure or NO_REASON
    return body, status, watch_headers(session, "web.upload_progress")


def _load(schema: Schema) -> dict[str, Any]:
    # Malformed JSON is a 400, JSON beyond the limits a 422 (json_body.JsonRequest).
    body = request.get_json() if request.is_json else None
    if not isinstance(body, dict):
        raise InvalidInput("The body must be a JSON object")
    try:
        loaded: dict[str, Any] = schema.load(body)
    except ValidationError as error:
        raise InvalidInput("Invalid upload", _messages(error)) from None
    return loaded


def _messages(error: ValidationError) -> dict[str, Any]:
    """marshmallow's messages by field (a schema's errors always come as a dict)."""
    messages = error.messages
    return messages if isinstance(messages, dict) else {"_schema": messages}
