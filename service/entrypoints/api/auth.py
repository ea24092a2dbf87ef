"""Who is calling: resolved once per request, here and nowhere else.

The service layer decides what the caller may do (``service.domain.access``); this module only says
who the caller is. With ``AUTH_MODE=jwt`` that is the user a verified bearer token names, or an
anonymous caller when no token is sent (reads may still be open: ``PUBLIC_READ``). A token that
is sent but cannot be trusted is refused at once, whatever the route would allow anonymously.
With ``AUTH_MODE=none`` every caller is unrestricted and the client names the user.
"""

from __future__ import annotations

import re

from flask import Flask, current_app, g, request

from service.domain.errors import InvalidToken, MalformedToken, NotAuthenticated
from service.domain.model import Caller
from service.ports import TokenVerifier

EXTENSION = "token_verifier"
BEARER_SCHEME = "bearerAuth"
# Routes anyone may call, signed in or not, token or not.
PUBLIC_BLUEPRINTS = frozenset({"health", "api-docs"})
# The gallery's pages carry the token in a cookie and resolve the caller themselves
# (service.entrypoints.web.identity): a bearer header means nothing there.
COOKIE_BLUEPRINTS = frozenset({"web"})
_JWT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
UNRESTRICTED = Caller(user_id=None, unrestricted=True)
ANONYMOUS = Caller(user_id=None)


ANONYMOUS_READS = "anonymous_reads"
_READS = frozenset({"GET", "HEAD"})


def init_app(app: Flask, verifier: TokenVerifier | None, *, anonymous_reads: bool = False) -> None:
    """``verifier`` None is ``AUTH_MODE=none``. ``anonymous_reads`` (``PUBLIC_READ``): reads
    without a token go on to the service, which decides; anything else without one is a 401
    before its parameters are read."""
    app.extensions[EXTENSION] = verifier
    app.extensions[ANONYMOUS_READS] = anonymous_reads
    app.before_request(_resolve_caller)


def caller() -> Caller:
    found: Caller = g.get("caller", ANONYMOUS)
    return found


def _resolve_caller() -> None:
    resolved_elsewhere = request.blueprint in PUBLIC_BLUEPRINTS | COOKIE_BLUEPRINTS
    if resolved_elsewhere or request.endpoint in (None, "static"):
        return
    verifier: TokenVerifier | None = current_app.extensions[EXTENSION]
    if verifier is None:
        g.caller = UNRESTRICTED
        return
    header = request.headers.get("Authorization")
    if header is None:
        if request.method in _READS and current_app.extensions[ANONYMOUS_READS]:
            g.caller = ANONYMOUS
            return
        raise NotAuthenticated("Sign in: this request needs a bearer token")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise NotAuthenticated("The Authorization header must be 'Bearer <token>'")
    if not _JWT.fullmatch(token):
        raise MalformedToken
    g.caller = verifier.verify(token)


def www_authenticate(error: NotAuthenticated) -> str:
    """RFC 6750's challenge for a 401."""
    code = "invalid_token" if isinstance(error, InvalidToken) else "invalid_request"
    description = error.message.replace('"', "'")
    return f'Bearer realm="mpycloud", error="{code}", error_description="{description}"'
