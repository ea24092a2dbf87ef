"""Signing in and out of the gallery."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import redirect, render_template, request, session, url_for

from service.domain.errors import InvalidInput, SignInFailed, StorageUnavailable
from service.entrypoints.api.error_handlers import log_error
from service.entrypoints.web.blueprint import bp
from service.entrypoints.web.identity import forget, refresh_token, remember, sign_in_service


def safe_next(target: str | None) -> str:
    """A path within this app to return to; anything else is the gallery.

    Browsers drop tabs and newlines anywhere in a URL, strip control characters and spaces at
    its ends, and read a backslash as a slash, so ``/\\t/evil`` and ``/\\evil`` are ``//evil``:
    another site. A target holding any of those, a scheme or a host is refused, before it
    reaches a header (where a newline would be an error)."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target)
    ):
        return "/"
    return target


@bp.get("/sign-in")
def sign_in_form() -> Any:
    if sign_in_service() is None:
        return redirect(url_for("web.grid"))
    return render_template("sign_in.html", next=safe_next(request.args.get("next")))


@bp.post("/sign-in")
def sign_in() -> Any:
    service = sign_in_service()
    if service is None:
        return redirect(url_for("web.grid"))
    target = safe_next(request.form.get("next"))
    username = request.form.get("username", "")
    try:
        signed_in = service.sign_in(username, request.form.get("password", ""))
    except (SignInFailed, InvalidInput) as error:
        status = 401 if isinstance(error, SignInFailed) else 422
        page = render_template("sign_in.html", error=error.message, username=username, next=target)
        return page, status
    # A new CSRF secret for the signed-in session: one planted before sign-in is worthless.
    session.clear()
    response = redirect(request.script_root + target)
    remember(response, signed_in)
    return response


@bp.post("/sign-out")
def sign_out() -> Any:
    service, kept = sign_in_service(), refresh_token()
    if service is not None and kept is not None:
        try:
            service.sign_out(kept)
        except StorageUnavailable as error:
            # The browser forgets the sign-in all the same; the refresh token, which no one
            # holds any more, stays valid at the provider until it expires.
            log_error(error, HTTPStatus.SERVICE_UNAVAILABLE)
    session.clear()
    response = redirect(url_for("web.sign_in_form"))
    forget(response)
    return response
