"""Domain error -> HTTP status, in one table; every error body has the same JSON shape."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, jsonify
from flask_smorest import Api
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from service import errors
from service.api.auth import www_authenticate
from service.api.openapi import DeferredSpec

log = logging.getLogger(__name__)

STATUS_BY_ERROR: dict[type[errors.ImageServiceError], HTTPStatus] = {
    errors.ImageNotFound: HTTPStatus.NOT_FOUND,
    errors.MalformedImageId: HTTPStatus.BAD_REQUEST,
    errors.InvalidImage: HTTPStatus.BAD_REQUEST,
    errors.InvalidCursor: HTTPStatus.BAD_REQUEST,
    errors.UnsupportedImage: HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
    errors.ImageTooLarge: HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    errors.InvalidInput: HTTPStatus.UNPROCESSABLE_ENTITY,
    errors.NotAuthenticated: HTTPStatus.UNAUTHORIZED,
    errors.Forbidden: HTTPStatus.FORBIDDEN,
    errors.PreconditionFailed: HTTPStatus.PRECONDITION_FAILED,
    errors.ImageConflict: HTTPStatus.CONFLICT,
    errors.RequestInProgress: HTTPStatus.CONFLICT,
    errors.StorageUnavailable: HTTPStatus.SERVICE_UNAVAILABLE,
    errors.DecoderBusy: HTTPStatus.SERVICE_UNAVAILABLE,
    errors.UploadNotFound: HTTPStatus.NOT_FOUND,
    errors.UploadExpired: HTTPStatus.GONE,
}


def status_of(error: errors.ImageServiceError) -> HTTPStatus:
    return next(
        (s for kind, s in STATUS_BY_ERROR.items() if isinstance(error, kind)),
        HTTPStatus.INTERNAL_SERVER_ERROR,
    )


def error_response(
    status: HTTPStatus, message: str, details: dict[str, Any] | None = None
) -> tuple[Response, int]:
    body: dict[str, Any] = {"code": status.value, "status": status.phrase, "message": message}
    if details:
        body["errors"] = details
    return jsonify(body), status.value


class ImageApi(DeferredSpec, Api):  # type: ignore[misc]
    """flask-smorest's Api, with a ``message`` in every error body (it omits it by default),
    and its OpenAPI document built on first use (:class:`DeferredSpec`)."""

    def handle_http_exception(self, error: HTTPException) -> Any:
        payload, code, extra_headers = super().handle_http_exception(error)
        headers = dict(extra_headers or {})
        if code == 405:
            # werkzeug's Allow header, which flask-smorest's handler leaves out.
            headers.update((k, v) for k, v in error.get_headers() if k.lower() == "allow")
        if "message" not in payload:
            payload["message"] = (
                "Invalid request parameters" if "errors" in payload else error.description
            )
        return payload, code, headers


def register_error_handlers(
    app: Flask, max_request_body: int, *, lambda_limit: bool = False
) -> None:
    """``lambda_limit``: the body cap is the runtime's (Lambda), not MAX_FILE_SIZE's."""
    too_large = f"The request body is larger than the limit of {max_request_body} bytes"
    if lambda_limit:
        too_large += "; send larger files with an upload session (POST /uploads)"

    @app.errorhandler(errors.ImageServiceError)
    def _domain_error(error: errors.ImageServiceError) -> tuple[Response, int]:
        status = status_of(error)
        if status >= 500:
            log.warning("request failed: %s", error.message)
        response, code = error_response(status, error.message, error.errors)
        if isinstance(error, errors.NotAuthenticated):
            response.headers["WWW-Authenticate"] = www_authenticate(error)
        if error.retry_after is not None:
            response.headers["Retry-After"] = str(error.retry_after)
        return response, code

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(error: RequestEntityTooLarge) -> tuple[Response, int]:
        return error_response(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, too_large)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[Response, int]:
        # HTTPExceptions never get here: flask-smorest's more specific handler formats them.
        log.exception("unexpected error")
        return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "Internal error")
