"""The gallery's drag-and-drop upload: upload sessions opened and completed for the page's
script, which sends the bytes straight to S3 in between.

The same session bodies as ``POST /uploads`` and its ``complete`` (the API's schemas), but
authorised by the session cookie and a CSRF header instead of a bearer token; the answer to
``complete`` carries the new tile, rendered as the grid renders it.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from marshmallow import Schema, ValidationError

from service.domain.errors import InvalidInput
from service.entrypoints.api.auth import caller
from service.entrypoints.api.context import upload_service
from service.entrypoints.api.session_endpoints import new_upload
from service.entrypoints.api.session_schemas import CompleteSchema, NewUploadSchema, TicketSchema
from service.entrypoints.web.blueprint import bp


@bp.post("/photo-uploads")
def start_upload() -> Any:
    ticket = upload_service().open(caller(), new_upload(_load(NewUploadSchema())))
    return TicketSchema().dump(ticket), 201


@bp.post("/photo-uploads/<upload_id>/complete")
def complete_upload(upload_id: str) -> Any:
    parts = [(p["part_number"], p["etag"]) for p in _load(CompleteSchema())["parts"]]
    done = upload_service().complete(caller(), upload_id, parts)
    tile = render_template("_tile.html", image=done.image)
    body = {"image_id": done.image.image_id, "duplicate": done.duplicate, "tile": tile}
    return body, 200 if done.duplicate else 201


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
