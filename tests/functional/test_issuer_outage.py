"""The issuer's JWKS endpoint answering 200 with something that is not a JWKS (here an HTML
page): the requests that need its keys are a 503 with a stable message, the endpoint's answer
is in the log under the request's id, and the gallery's visitors stay signed in."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from flask import Flask

from service.adapters.jwt_verifier import JwtVerifier
from service.entrypoints.app import create_app
from service.entrypoints.log import RequestIdFilter
from service.settings import Settings
from tests.support.aws import moto_environment
from tests.support.gallery import KEYS, PASSWORDS, SIGN_IN_COOKIE, get, jwt_settings, set_cookies
from tests.support.tokens import CLIENT_ID, ISSUER, IssuerCredentials, JwksEndpoint, jwks_endpoint

FETCH_FAILED = "Could not fetch the issuer's signing keys"


@pytest.fixture(scope="module")
def aws() -> Iterator[Settings]:
    with moto_environment(jwt_settings()) as settings:
        yield settings


@pytest.fixture
def endpoint() -> Iterator[JwksEndpoint]:
    with jwks_endpoint(KEYS) as served:
        served.body, served.content_type = b"<html><p>Down for maintenance</p></html>", "text/html"
        yield served


@pytest.fixture
def app(aws: Settings, endpoint: JwksEndpoint) -> Flask:
    verifier = JwtVerifier(issuer=ISSUER, jwks_url=endpoint.url, client_ids=(CLIENT_ID,))
    return create_app(aws, token_verifier=verifier, credentials=IssuerCredentials(KEYS, PASSWORDS))


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.handler.addFilter(RequestIdFilter())
    caplog.set_level(logging.INFO)
    return caplog


def test_the_api_answers_503_with_a_stable_message_and_logs_the_answer(
    app: Flask, logged: pytest.LogCaptureFixture
) -> None:
    client = app.test_client()
    bearer = {"Authorization": f"Bearer {KEYS.token()}"}

    first, second = (client.get("/images", headers=bearer) for _ in range(2))

    for response in (first, second):
        assert response.status_code == 503, response.get_json()
        assert response.get_json()["message"] == FETCH_FAILED
    # What the endpoint answered is for the operators, under the id of the request that met it.
    [record] = [r for r in logged.records if "Expecting value" in r.getMessage()]
    assert record.__dict__["request_id"] == first.headers["X-Request-Id"]


def test_gallery_visitors_are_not_signed_out(app: Flask) -> None:
    browser = app.test_client()
    browser.set_cookie(SIGN_IN_COOKIE, KEYS.token("alice"), domain="gallery.test")

    pages = [get(browser, "/") for _ in range(2)]

    for page in pages:
        assert page.status_code == 503
        assert SIGN_IN_COOKIE not in set_cookies(page)
