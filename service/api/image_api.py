"""ImageApi: flask-smorest's Api with the service's error body and OpenAPI conventions."""

from __future__ import annotations

from typing import Any

from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from service.api.errors import valid_unicode
from service.api.openapi import DeferredSpec


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
        return valid_unicode(payload), code, headers
