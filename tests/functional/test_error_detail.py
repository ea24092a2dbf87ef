"""What a library says about a refused input is for the operators: the client gets the
service's own stable message, and the library's words go to the log under the request's id."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from service.entrypoints.app import create_app
from service.entrypoints.log import RequestIdFilter
from service.settings import Settings
from tests.support import located_images as located
from tests.support.aws import moto_environment, small_settings
from tests.support.forms import upload_form
from tests.support.images import jpeg
from tests.support.tokens import CLIENT_ID, ISSUER, TokenIssuer, verifier_for

KEYS = TokenIssuer()


@pytest.fixture(scope="module")
def aws_jwt() -> Iterator[Settings]:
    settings = small_settings(auth_mode="jwt", auth_issuer=ISSUER, auth_client_ids=(CLIENT_ID,))
    with moto_environment(settings) as ready:
        yield ready


@pytest.fixture(scope="module")
def app(aws_jwt: Settings) -> Flask:
    return create_app(aws_jwt, token_verifier=verifier_for(KEYS))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.handler.addFilter(RequestIdFilter())
    caplog.set_level(logging.INFO)
    return caplog


def posted(client: FlaskClient, data: bytes) -> TestResponse:
    return client.post(
        "/images",
        data=upload_form(data, filename="x.jpg", user_id="alice"),
        content_type="multipart/form-data",
        headers={"Authorization": f"Bearer {KEYS.token('alice')}"},
    )


def logged_for(logged: pytest.LogCaptureFixture, request_id: str) -> str:
    lines = [r.getMessage() for r in logged.records if r.__dict__["request_id"] == request_id]
    return "\n".join(lines)


def test_a_truncated_image(client: FlaskClient, logged: pytest.LogCaptureFixture) -> None:
    answer = posted(client, jpeg((256, 192))[:-400])

    assert answer.status_code == 400
    assert answer.get_json()["message"] == "The image is truncated or corrupt"
    assert "truncated (" in logged_for(logged, answer.headers["X-Request-Id"])


def test_an_xmp_packet_that_is_not_xml(
    client: FlaskClient, logged: pytest.LogCaptureFixture
) -> None:
    broken = b"<x:xmpmeta><exif:GPSLatitude>48,51.4917N</exif:GPSLatitude></x:xmpmeta>"
    sent = located.after_segments(
        located.jpeg(), 1, located.segment(0xE1, located.XMP_HEADER + broken)
    )

    answer = posted(client, sent)

    assert answer.status_code == 422
    assert answer.get_json()["message"] == (
        "An XMP packet that may hold a location is not well-formed XML: it cannot be edited"
    )
    assert "unbound prefix" in logged_for(logged, answer.headers["X-Request-Id"])


def test_a_token_whose_signature_does_not_verify(
    client: FlaskClient, logged: pytest.LogCaptureFixture
) -> None:
    forged = TokenIssuer().token("alice")  # the same kid, another key

    answer = client.get("/images", headers={"Authorization": f"Bearer {forged}"})

    assert answer.status_code == 401
    assert answer.get_json()["message"] == "The token's signature does not verify"
    assert "Signature verification failed" in logged_for(logged, answer.headers["X-Request-Id"])
