"""Who is looking at the gallery: the user whose token the session cookie holds.

The cookie holds the token itself (nothing is stored server-side) and is HttpOnly, Secure and
SameSite=Lax, under the ``__Host-`` prefix (Path=/, no Domain: no sub-domain can set or read
it). Browsers accept Secure cookies from http://127.0.0.1 and http://localhost (secure
contexts), so ``make run`` signs in over plain HTTP. A token that no longer verifies (expired)
makes the visitor anonymous and the cookie is dropped.

The refresh token, kept only for sign-out to revoke it, is in a cookie of its own that the
browser sends to the sign-out form alone (``Path`` of ``/sign-out``, which the ``__Host-`` prefix
does not allow: it is ``__Secure-``), ``SameSite=Strict``, with the sign-in's lifetime.
"""

from __future__ import annotations

from typing import cast

from flask import Flask, current_app, g, request, url_for
from werkzeug.wrappers import Response

from service.domain.errors import NotAuthenticated
from service.entrypoints.api.auth import ANONYMOUS, UNRESTRICTED, caller
from service.entrypoints.web.blueprint import bp
from service.usecases.sign_in import SignedIn, SignInService

COOKIE = "__Host-mpycloud-sign-in"
REFRESH_COOKIE = "__Secure-mpycloud-refresh"
EXTENSION = "web_sign_in"


def init_app(app: Flask, sign_in: SignInService | None) -> None:
    app.extensions[EXTENSION] = sign_in


def sign_in_service() -> SignInService | None:
    return cast(SignInService | None, current_app.extensions[EXTENSION])


def sign_in_enabled() -> bool:
    return sign_in_service() is not None


def viewer() -> str | None:
    """The signed-in user's name, for the page header."""
    return caller().user_id


def remember(response: Response, signed_in: SignedIn) -> None:
    response.set_cookie(
        COOKIE,
        signed_in.token,
        max_age=signed_in.expires_in,
        path="/",
        secure=True,
        httponly=True,
        samesite="Lax",
    )
    if signed_in.refresh_token:
        response.set_cookie(
            REFRESH_COOKIE,
            signed_in.refresh_token,
            max_age=signed_in.expires_in,
            path=url_for("web.sign_out"),
            secure=True,
            httponly=True,
            samesite="Strict",
        )


def refresh_token() -> str | None:
    """The sign-in's refresh token (sent with the sign-out form only)."""
    return request.cookies.get(REFRESH_COOKIE) or None


def forget(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", secure=True, httponly=True, samesite="Lax")
    response.delete_cookie(
        REFRESH_COOKIE, path=url_for("web.sign_out"), secure=True, httponly=True, samesite="Strict"
    )


@bp.before_request
def _resolve_caller() -> None:
    service = sign_in_service()
    if service is None:
        g.caller = UNRESTRICTED
        return
    g.caller = ANONYMOUS
    token = request.cookies.get(COOKIE)
    if token:
        try:
            g.caller = service.resume(token)
        except NotAuthenticated:
            g.stale_session = True


@bp.after_request
def _drop_stale_session(response: Response) -> Response:
    if g.get("stale_session"):
        forget(response)
    return response
