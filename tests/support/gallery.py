"""The gallery's test helpers: an app whose sign-in is answered by the test issuer
(tests/support/tokens.py), and a visitor's requests as a browser sends them, on HTTPS."""

from __future__ import annotations

import io
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from service.domain.model import Caller, NewImage
from service.entrypoints.app import create_app
from service.settings import Settings
from service.usecases.images import ImageService
from tests.support.aws import small_settings
from tests.support.images import jpeg
from tests.support.tokens import CLIENT_ID, ISSUER, IssuerCredentials, TokenIssuer, verifier_for

KEYS = TokenIssuer()
PASSWORDS = {"alice": "alice-password-1", "bob": "bob-password-12"}
SIGN_IN_COOKIE = "__Host-mpycloud-sign-in"
BASE = "https://gallery.test"


def jwt_settings() -> Settings:
    return small_settings(auth_mode="jwt", auth_issuer=ISSUER, auth_client_ids=(CLIENT_ID,))


def gallery_app(settings: Settings) -> Flask:
    """The app with sign-in on: alice and bob sign in with their PASSWORDS."""
    return create_app(
        settings, token_verifier=verifier_for(KEYS), credentials=IssuerCredentials(KEYS, PASSWORDS)
    )


def get(client: FlaskClient, path: str, **kwargs: Any) -> TestResponse:
    return client.get(path, base_url=BASE, **kwargs)


def post(client: FlaskClient, path: str, **kwargs: Any) -> TestResponse:
    """A POST from one of the site's pages: browsers send the Referer, which CSRF checks on
    HTTPS."""
    headers = {"Referer": f"{BASE}/", **kwargs.pop("headers", {})}
    return client.post(path, base_url=BASE, headers=headers, **kwargs)


def csrf_of(page: TestResponse) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', page.get_data(as_text=True))
    assert found, "the page carries no CSRF token"
    return found.group(1)


def sign_in(client: FlaskClient, user: str, password: str | None = None) -> TestResponse:
    token = csrf_of(get(client, "/sign-in"))
    form = {"username": user, "password": password or PASSWORDS[user], "csrf_token": token}
    return post(client, "/sign-in", data=form)


def set_cookies(response: TestResponse) -> dict[str, str]:
    """Each Set-Cookie header of ``response``, by cookie name."""
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


def published(app: Flask, user: str, data: bytes | None = None, **fields: Any) -> str:
    service: ImageService = app.extensions["image_service"]
    new = NewImage(
        user_id=None, original_filename="photo.jpg", declared_content_type=None, **fields
    )
    result = service.upload(Caller(user_id=user), new, io.BytesIO(data or jpeg()))
    return result.image.image_id
