"""Hardening of the gallery's pages: CSRF tokens, Content-Security-Policy, error pages.

CSRF: flask-wtf's CSRFProtect, checked for the gallery's POSTs only (the API takes bearer
tokens, which a browser never sends on its own). The token is in every form and, for scripts,
in a ``<meta>`` tag sent back as ``X-CSRFToken``; its secret half lives in Flask's signed
session cookie (``__Host-``, HttpOnly, Secure, SameSite=Lax), signed with a key derived from
CURSOR_SECRET, which every instance shares.

flask-wtf is imported by the gallery's first form or POST, not with the app: it brings all of
WTForms, which a Lambda cold start would pay for, and no API request needs it. Its settings are
therefore all stated here, and CSRFProtect is used without ``init_app``.

CSP: scripts from the app's own origin only (no inline script, no eval); images and the
upload's requests may also reach the S3 endpoint that presigned URLs name.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import cache
from http import HTTPStatus
from typing import Any
from urllib.parse import urlparse

from flask import Flask, Response, current_app, redirect, render_template, request, url_for

from service.domain.errors import ImageServiceError, NotAuthenticated
from service.entrypoints.api.error_handlers import error_response, log_error, status_of
from service.entrypoints.web.blueprint import bp
from service.settings import Settings

CSP_EXTENSION = "web_csp"
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def init_app(app: Flask, settings: Settings) -> None:
    app.secret_key = _session_key(settings)
    app.config.update(
        SESSION_COOKIE_NAME="__Host-mpycloud-form",
        SESSION_COOKIE_PATH="/",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # What CSRFProtect.protect reads; it runs for the gallery's blueprint only (below).
        WTF_CSRF_METHODS=_UNSAFE_METHODS,
        WTF_CSRF_FIELD_NAME="csrf_token",
        WTF_CSRF_HEADERS=["X-CSRFToken", "X-CSRF-Token"],
        WTF_CSRF_SSL_STRICT=True,
        # Valid as long as the browser session that holds its secret half.
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.extensions[CSP_EXTENSION] = content_security_policy(storage_origins(settings))


def storage_origins(settings: Settings) -> tuple[str, ...]:
    """Where presigned URLs point: the (public) endpoint when one is set, else S3's names of
    the bucket (us-east-1's global one and the regional one)."""
    endpoint = settings.s3_public_endpoint_url or settings.aws_endpoint_url
    if endpoint:
        parsed = urlparse(endpoint)
        return (f"{parsed.scheme}://{parsed.netloc}",)
    bucket, region = settings.s3_bucket_name, settings.aws_default_region
    return (f"https://{bucket}.s3.amazonaws.com", f"https://{bucket}.s3.{region}.amazonaws.com")


def content_security_policy(storage: tuple[str, ...]) -> str:
    sources = " ".join(storage)
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src 'self' data: {sources}",
            f"connect-src 'self' {sources}",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        )
    )


def _session_key(settings: Settings) -> str:
    if settings.cursor_secret is None:
        return secrets.token_urlsafe(32)  # one process: create_app already warns
    secret = settings.cursor_secret.encode()
    return hmac.new(secret, b"mpycloud gallery session", hashlib.sha256).hexdigest()


def wants_json() -> bool:
    """The gallery's scripts ask for JSON; pages and forms get HTML."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


@cache
def _protector() -> Any:
    from flask_wtf.csrf import CSRFProtect  # on first use: see above

    return CSRFProtect()  # reads current_app's config: no init_app needed


def csrf_token() -> str:
    """A form's token (the templates' ``csrf_token()``)."""
    from flask_wtf.csrf import generate_csrf  # on first use: see above

    token: str = generate_csrf()
    return token


@bp.before_request
def _check_csrf() -> Any:
    if request.method not in _UNSAFE_METHODS:
        return None
    from flask_wtf.csrf import CSRFError  # on first use: see above

    try:
        _protector().protect()
    except CSRFError:
        return _csrf_refused()
    return None


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = current_app.extensions[CSP_EXTENSION]
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers.setdefault("Cache-Control", "private, no-store")
    return response


def _csrf_refused() -> Any:
    message = "The form expired or did not come from this site: reload the page and try again"
    if wants_json():
        return error_response(HTTPStatus.BAD_REQUEST, message)
    return render_template("error.html", status=400, message=message), 400


@bp.errorhandler(ImageServiceError)
def _domain_error(error: ImageServiceError) -> Any:
    status = status_of(error)
    log_error(error, status)
    if wants_json():
        return error_response(status, error.message, error.errors)
    if isinstance(error, NotAuthenticated):
        return redirect(url_for("web.sign_in_form", next=_here()))
    return render_template("error.html", status=status.value, message=error.message), status


def _here() -> str:
    """Where to come back after signing in: this page, or the gallery after a form's POST."""
    if request.method == "GET":
        return request.full_path.rstrip("?")
    return "/"
