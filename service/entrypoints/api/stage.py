"""Mount the app under the API Gateway stage so that generated links carry it.

apig-wsgi leaves ``SCRIPT_NAME`` empty. Behind a named stage the public URL of ``/docs`` is
``https://<api>/<stage>/docs``, so the links the app builds (the docs page's ``openapi.json``,
``Location`` headers) need ``SCRIPT_NAME=/<stage>``:

* REST API (payload 1.0): ``path`` is the resource path without the stage and
  ``requestContext.path`` the path as called. The prefix is what the latter adds to the former
  (``/<stage>`` on the execute-api domain, the base path on a custom domain), else ``/<stage>``.
* HTTP API (payload 2.0), named stage: ``rawPath`` keeps the stage; it moves to ``SCRIPT_NAME``.
* ``$default`` stages and ALB events: nothing to do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from apig_wsgi import make_lambda_handler

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def make_handler(app: WSGIApp) -> LambdaHandler:
    """The Lambda handler serving ``app`` for API Gateway REST / HTTP API and ALB events."""
    return make_lambda_handler(StagePrefixMiddleware(app), binary_support=True)


class StagePrefixMiddleware:
    """WSGI middleware over an app served by apig-wsgi (reads ``apig_wsgi.full_event``)."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        event = environ.get("apig_wsgi.full_event")
        if isinstance(event, Mapping):
            prefix = stage_prefix(event, environ.get("PATH_INFO", ""))
            if prefix:
                environ["SCRIPT_NAME"] = prefix
                path = environ.get("PATH_INFO", "")
                if path == prefix or path.startswith(prefix + "/"):
                    environ["PATH_INFO"] = path[len(prefix) :] or "/"
        return self.app(environ, start_response)


def stage_prefix(event: Mapping[str, Any], path_info: str) -> str:
    """The path prefix under which the API Gateway stage serves the app, or ``""``."""
    context = event.get("requestContext")
    if not isinstance(context, Mapping) or "elb" in context:
        return ""
    stage = context.get("stage")
    if not isinstance(stage, str) or not stage or stage == "$default":
        return ""
    if event.get("version") == "2.0":
        prefix = f"/{stage}"
        return prefix if path_info == prefix or path_info.startswith(prefix + "/") else ""
    called, resource_path = context.get("path"), event.get("path")
    if (
        isinstance(called, str)
        and isinstance(resource_path, str)
        and called.endswith(resource_path)
        and resource_path.startswith("/")
    ):
        return called[: len(called) - len(resource_path)].rstrip("/")
    return f"/{stage}"
