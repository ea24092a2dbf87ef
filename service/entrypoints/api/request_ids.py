"""Which id ties a request's log lines together, and which id its client gave.

Under Lambda the platform's id wins, so the lines can be found next to API Gateway's access log
and Lambda's own REPORT line: API Gateway's ``requestContext.requestId``, else the Lambda
``aws_request_id``. Elsewhere a client's well-formed ``X-Request-Id`` is used, else a new id.
A client's id is always kept in a field of its own (``client_request_id``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, request

from service.entrypoints.log import client_request_id_var, request_id_var

_WELL_FORMED = re.compile(r"[A-Za-z0-9._-]{1,128}")


def platform_request_id(environ: Mapping[str, Any]) -> str | None:
    """The id API Gateway or Lambda gave this request (apig-wsgi puts both in the environ)."""
    context = environ.get("apig_wsgi.request_context")
    if isinstance(context, Mapping) and isinstance(context.get("requestId"), str):
        return str(context["requestId"])
    lambda_request_id = getattr(environ.get("apig_wsgi.context"), "aws_request_id", None)
    return lambda_request_id if isinstance(lambda_request_id, str) else None


def init_app(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        given = request.headers.get("X-Request-Id", "")
        client_id = given if _WELL_FORMED.fullmatch(given) else None
        client_request_id_var.set(client_id or "-")
        request_id_var.set(platform_request_id(request.environ) or client_id or uuid.uuid4().hex)

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers["X-Request-Id"] = request_id_var.get()
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
