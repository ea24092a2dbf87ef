"""``Idempotency-Key`` on the POSTs that create things: a decorator over their views.

The rules are in ``service/domain/idempotency_keys.py``; this module reads the header, says who the
request's owner is and what "the same request" is, and replays a kept answer. The same request
is the same method and path, the same form fields in the same order and the same file bytes
(their SHA-256, not the multipart encoding, whose boundary differs from one client run to the
next), or the same JSON document. The owner is the signed-in user; with ``AUTH_MODE=none``,
the ``user_id`` the request names.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Callable
from contextlib import suppress
from typing import Any, TypeVar, cast

from flask import Response, current_app, make_response, request

from service.domain.idempotency_keys import HEADER, KEY_PATTERN, StoredResponse, checked_key
from service.domain.rules import USER_ID_PATTERN
from service.entrypoints.api.auth import caller
from service.entrypoints.api.json_body import json_value
from service.ports import IdempotencyStore

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])
EXTENSION = "idempotency_store"
REPLAYED = "Idempotent-Replayed"
# Headers of the first answer that a replay repeats (the body's type, where the image is).
KEPT_HEADERS = ("Content-Type", "Location", "ETag", "Retry-After")
# Not a user id (see rules.USER_ID_PATTERN): the owner when the request names none.
NOBODY = "*"
_CHUNK = 1024 * 1024
_FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")


# The header in the OpenAPI document of each view that honours it.
HEADER_PARAMETER = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": 128,
        "pattern": f"^{KEY_PATTERN.pattern}$",
    },
    "description": "1-128 printable ASCII characters: a retry with the same key (same user, "
    "same request) gets the first answer for 24 h; another request with it 422, a retry while "
    "the first still runs 409",
}


def idempotency_store() -> IdempotencyStore:
    return cast(IdempotencyStore, current_app.extensions[EXTENSION])


def idempotent(view: F) -> F:
    """Runs ``view`` once per (owner, ``Idempotency-Key``); without the header, always."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        header = request.headers.get(HEADER)
        who = caller()
        if header is None or not who.signed_in:
            # No key, or no one signed in: the view answers (a 401), and nothing is kept.
            return view(*args, **kwargs)
        key = checked_key(header)
        owner, request_hash = _owner(), _request_hash()
        store = idempotency_store()
        first = store.begin(owner, key, request_hash)
        if first is not None:
            replay = current_app.response_class(
                first.body, status=first.status, headers=first.headers
            )
            replay.headers[REPLAYED] = "true"
            return replay
        try:
            response: Response = make_response(view(*args, **kwargs))
        except BaseException:
            _quietly(lambda: store.release(owner, key))
            raise
        if 200 <= response.status_code < 300:
            kept = StoredResponse(
                status=response.status_code,
                body=response.get_data(as_text=True),
                headers={h: response.headers[h] for h in KEPT_HEADERS if h in response.headers},
            )
            # The request did succeed: should its answer not be kept, a retry after the
            # in-progress lock runs again (and DEDUPE answers the same image).
            _quietly(lambda: store.complete(owner, key, request_hash, kept))
        else:
            _quietly(lambda: store.release(owner, key))
        return response

    return cast(F, wrapper)


def _owner() -> str:
    signed_in = caller().user_id
    if signed_in is not None:
        return signed_in
    if request.mimetype in _FORMS:
        named: Any = request.form.get("user_id")
    else:
        document = request.get_json(silent=True)
        named = document.get("user_id") if isinstance(document, dict) else None
    if isinstance(named, str) and USER_ID_PATTERN.fullmatch(named):
        return named
    return NOBODY


def _request_hash() -> str:
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    if request.mimetype in _FORMS:
        for name, value in sorted(request.form.items(multi=True), key=lambda field: str(field[0])):
            digest.update(json.dumps(["field", name, value]).encode())
        for name, upload in sorted(request.files.items(multi=True), key=lambda file: str(file[0])):
            digest.update(json.dumps(["file", name, upload.filename, upload.mimetype]).encode())
            content = hashlib.sha256()
            upload.stream.seek(0)
            while chunk := upload.stream.read(_CHUNK):
                content.update(chunk)
            upload.stream.seek(0)
            digest.update(content.hexdigest().encode())
        return digest.hexdigest()
    data = request.get_data(cache=True)
    with suppress(ValueError):  # not JSON, or beyond its limits: the bytes as they are
        data = json.dumps(json_value(data), sort_keys=True, separators=(",", ":")).encode()
    digest.update(data)
    return digest.hexdigest()


def _quietly(action: Callable[[], object]) -> None:
    try:
        action()
    except Exception:
        log.warning("could not update the idempotency record", exc_info=True)
