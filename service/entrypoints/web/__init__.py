"""The gallery: server-rendered pages at ``/`` over the same services as the API.

Flask + Jinja templates and a few plain JavaScript files (``static/``), no build step. Pages
call the application services directly (one listing or one read per page), never the API over
HTTP. The token of a signed-in user lives in an HttpOnly cookie (``identity``); every form and
every script's POST carries a CSRF token (flask-wtf); every page carries a Content-Security-
Policy without inline script (``security``).

An HTTP layer beside ``api``, whose schemas, caller and error shape it reuses: it may import the
API and the layers below (use cases, ports, domain, settings); the API never imports it.
"""

from __future__ import annotations

from flask import Flask

from service.entrypoints.web import account, gallery_uploads, identity, pages, security
from service.entrypoints.web.blueprint import bp
from service.settings import Settings
from service.usecases.sign_in import SignInService

__all__ = ["account", "gallery_uploads", "init_app", "pages"]


def init_app(app: Flask, settings: Settings, sign_in: SignInService | None) -> None:
    """``sign_in`` None: sign-in is off (``AUTH_MODE=none``) and every visitor may do
    anything, as with the API."""
    identity.init_app(app, sign_in)
    security.init_app(app, settings)
    app.register_blueprint(bp)
