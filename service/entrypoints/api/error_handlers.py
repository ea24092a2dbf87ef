"""Domain error -> HTTP status, in one table; every error body has the same JSON shape."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from service.domain import errors
from service.entrypoints.api.auth import www_authenticate
from service.entrypoints.api.context import UPLOAD_ENDPOINT
from service.entrypoints.api.forms import FormTooLarge

log = logging.getLogger(__name__)

STATUS_BY_ERROR: dict[type[errors.ImageServiceError], HTTPStatus] = {
    errors.ImageNotFound: HTTPStatus.NOT_FOUND,
    errors.MalformedImageId: HTTPStatus.BAD_REQUEST,
    errors.InvalidImage: HTTPStatus.BAD_REQUEST,
    errors.InvalidCursor: HTTPStatus.BAD_REQUEST,
    errors.UnsupportedImage: HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
    errors.ImageTooLarge: HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    errors.LocationNotRemovable: HTTPStatus.UNPROCESSABLE_ENTITY,
    errors.InvalidInput: HTTPStatus.UNPROCESSABLE_ENTITY,
    errors.NotAuthenticated: HTTPStatus.UNAUTHORIZED,
    errors.Forbidden: HTTPStatus.FORBIDDEN,
    errors.PreconditionFailed: HTTPStatus.PRECONDITION_FAILED,
    errors.ImageConflict: HTTPStatus.CONFLICT,
    errors.RequestInProgress: HTTPStatus.CONFLICT,
    errors.StorageRefusedInput: HTTPStatus.UNPROCESSABLE_ENTITY,
    errors.StorageUnavailable: HTTPStatus.SERVICE_UNAVAILABLE,
    errors.DecoderBusy: HTTPStatus.SERVICE_UNAVAILABLE,
    errors.UploadNotFound: HTTPStatus.NOT_FOUND,
    errors.UploadExpired: HTTPStatus.GONE,
}


def valid_unicode(value: Any) -> Any:
    """``value`` with any lone surrogate in its strings (keys too) spelled as text (``\\udc80``):
    an error may quote what the client sent, and the answer must still be valid Unicode."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {valid_unicode(key): valid_unicode(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [valid_unicode(item) for item in value]
    return value


def status_of(error: errors.ImageServiceError) -> HTTPStatus:
    return next(
        (s for kind, s in STATUS_BY_ERROR.items() if isinstance(error, kind)),
        HTTPStatus.INTERNAL_SERVER_ERROR,
    )


def log_error(error: errors.ImageServiceError, status: HTTPStatus) -> None:
    """A failure always (the client cannot fix it), a refusal when its ``detail`` says more than
    the answer does; the log line carries the request's id."""
    detail = f" ({error.detail})" if error.detail else ""
    if status >= 500:
        log.warning("request failed: %s%s", error.message, detail)
    elif detail:
        log.info("request refused: %s%s", error.message, detail)


def error_response(
    status: HTTPStatus, message: str, details: dict[str, Any] | None = None
) -> tuple[Response, int]:
    body: dict[str, Any] = {"code": status.value, "status": status.phrase, "message": message}
    if details:
        body["errors"] = details
    return jsonify(valid_unicode(body)), status.value


def register_error_handlers(app: Flask, *, sessions_take_more: bool = False) -> None:
    """``sessions_take_more``: POST /images is capped below what upload sessions take."""

    @app.errorhandler(errors.ImageServiceError)
    def _domain_error(error: errors.ImageServiceError) -> tuple[Response, int]:
        status = status_of(error)
        log_error(error, status)
        response, code = error_response(status, error.message, error.errors)
        if isinstance(error, errors.NotAuthenticated):
            response.headers["WWW-Authenticate"] = www_authenticate(error)
        if error.retry_after is not None:
            response.headers["Retry-After"] = str(error.retry_after)
        return response, code

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> tuple[Response, int]:
        # webargs' abort (which flask-smorest's views use) leaves its message, the validation
        # errors and any headers in ``error.data``.
        data: dict[str, Any] = getattr(error, "data", None) or {}
        details = data.get("errors", data.get("messages"))
        message = data.get("message") or (
            "Invalid request parameters" if details else str(error.description)
        )
        response, code = error_response(HTTPStatus(error.code or 500), message, details)
        response.headers.update(data.get("headers") or {})
        if code == HTTPStatus.METHOD_NOT_ALLOWED:  # werkzeug's header naming the methods
            response.headers.update((k, v) for k, v in error.get_headers() if k.lower() == "allow")
        return response, code

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(error: RequestEntityTooLarge) -> tuple[Response, int]:
        # The form's own refusal names its limits; werkzeug's bare 413 is the body's size.
        if isinstance(error, FormTooLarge):
            message = str(error.description)
        else:
            limit = request.max_content_length
            message = f"The request body is larger than the limit of {limit} bytes"
            if sessions_take_more and request.endpoint == UPLOAD_ENDPOINT:
                message += "; send larger files with an upload session (POST /uploads)"
        return error_response(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, message)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[Response, int]:
        # HTTPExceptions never get here: _http_error, more specific, formats them.
        log.exception("unexpected error")
        return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "Internal error")
