"""The gallery under Lambda: API Gateway HTTP API events (payload 2.0) on a named stage, through
the handler ``service.entrypoints.lambda_handler`` builds. Links, cookies and redirects carry
the stage."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from service.entrypoints.api.stage import make_handler
from service.entrypoints.app import create_app
from tests.support.apigw_events import API_HOST, body_bytes, header, http_api_event
from tests.support.aws import moto_environment, small_settings
from tests.support.tokens import CLIENT_ID, ISSUER, IssuerCredentials, TokenIssuer, verifier_for

KEYS = TokenIssuer()
Handler = Any


@pytest.fixture(scope="module")
def handler() -> Iterator[Handler]:
    settings = small_settings(auth_mode="jwt", auth_issuer=ISSUER, auth_client_ids=(CLIENT_ID,))
    with moto_environment(settings) as ready:
        credentials = IssuerCredentials(KEYS, {"alice": "alice-password-1"})
        yield make_handler(
            create_app(ready, token_verifier=verifier_for(KEYS), credentials=credentials)
        )


def event(method: str, path: str, cookies: list[str], **kwargs: Any) -> dict[str, Any]:
    built = http_api_event(method, path, stage="prod", **kwargs)
    built["cookies"] = cookies
    return built


def cookie_pairs(response: dict[str, Any]) -> list[str]:
    """The name=value of each cookie a payload 2.0 answer sets (its ``cookies`` list)."""
    return [cookie.split(";", 1)[0] for cookie in response.get("cookies", [])]


def test_sign_in_and_browse_on_a_named_stage(handler: Handler) -> None:
    form_page = handler(event("GET", "/sign-in", []), None)
    html = body_bytes(form_page).decode()
    assert form_page["statusCode"] == 200
    assert "/prod/assets/gallery.js" in html
    assert 'action="/prod/sign-in"' in html
    assert "script-src 'self'" in header(form_page, "Content-Security-Policy")
    jar = cookie_pairs(form_page)
    token = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert token

    body = urlencode(
        {"username": "alice", "password": "alice-password-1", "csrf_token": token.group(1)}
    ).encode()
    signed_in = handler(
        event(
            "POST",
            "/sign-in",
            jar,
            body=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"https://{API_HOST}/prod/sign-in",
            },
        ),
        None,
    )
    assert signed_in["statusCode"] == 302, body_bytes(signed_in)
    assert header(signed_in, "Location").endswith("/prod/")
    jar += cookie_pairs(signed_in)
    assert any(pair.startswith("__Host-mpycloud-sign-in=") for pair in jar)

    grid = handler(event("GET", "/", jar), None)
    assert grid["statusCode"] == 200
    assert 'id="viewer">alice<' in body_bytes(grid).decode()

    script = handler(event("GET", "/assets/blurhash.js", jar), None)
    assert script["statusCode"] == 200
    assert b"blurhashDecode" in body_bytes(script)
