"""JSON that Python cannot hold - nested past any parser's recursion limit, or an integer of
more digits than it converts - is a 422 in the one error shape on every route that reads a JSON
body (the API's session endpoints, the gallery's upload script, the Idempotency-Key's request
hash), never a 500. Malformed JSON stays a 400."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from service.entrypoints.api.json_body import MAX_DEPTH
from service.entrypoints.app import create_app
from tests.functional.test_gallery_edges import script_headers
from tests.support.aws import moto_environment, small_settings
from tests.support.gallery import post, sign_in

DEEP = "[" * 30_000
HUGE = "9" * 5_000  # more digits than Python converts to an int
BODIES = {
    "deep": DEEP,
    "deep-in-an-object": '{"filename": "a.png", "tags": ' + DEEP + "}",
    "deep-and-closed": "[" * 20_000 + "]" * 20_000,
    "over-the-depth-limit": "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1),
    "huge-integer": '{"filename": "a.png", "content_type": "image/png", "size": ' + HUGE + "}",
    "huge-integer-in-a-list": '{"part_numbers": [' + HUGE + "]}",
}
SESSION = "01HZX3N7Q8R9S0T1V2W3X4Y5Z6"


@pytest.fixture(scope="module")
def client() -> Iterator[FlaskClient]:
    settings = small_settings()
    with moto_environment(settings):
        yield create_app(settings).test_client()


def assert_beyond_limits(response: TestResponse) -> dict[str, Any]:
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    body: dict[str, Any] = response.get_json()
    assert set(body) == {"code", "status", "message", "errors"}
    assert (body["code"], body["status"]) == (422, "Unprocessable Entity")
    assert "json" in body["errors"]
    return body


def raw(client: FlaskClient, path: str, data: str, **headers: str) -> TestResponse:
    return client.post(path, data=data, content_type="application/json", headers=headers)


@pytest.mark.parametrize("data", BODIES.values(), ids=BODIES.keys())
@pytest.mark.parametrize(
    "path", ["/uploads", f"/uploads/{SESSION}/parts", f"/uploads/{SESSION}/complete"]
)
def test_a_session_endpoint_answers_422_to_json_it_cannot_hold(
    client: FlaskClient, path: str, data: str
) -> None:
    assert_beyond_limits(raw(client, path, data))


@pytest.mark.parametrize("data", BODIES.values(), ids=BODIES.keys())
@pytest.mark.parametrize("path", ["/uploads", f"/uploads/{SESSION}/complete", "/images"])
def test_a_post_with_an_idempotency_key_answers_422_to_json_it_cannot_hold(
    client: FlaskClient, path: str, data: str
) -> None:
    # The key's request hash reads the body before the view does.
    response = raw(client, path, data, **{"Idempotency-Key": "k-1"})

    if path == "/images":  # not a form: no file, whatever the body holds
        assert 400 <= response.status_code < 500
        assert set(response.get_json()) >= {"code", "status", "message"}
    else:
        assert_beyond_limits(response)


@pytest.mark.parametrize("data", BODIES.values(), ids=BODIES.keys())
def test_patch_and_batch_answer_422_to_json_they_cannot_hold(
    client: FlaskClient, data: str
) -> None:
    for method, path in (("patch", f"/images/{SESSION}"), ("post", "/images/batch")):
        response = getattr(client, method)(path, data=data, content_type="application/json")
        assert_beyond_limits(response)


@pytest.mark.parametrize("path", ["/uploads", f"/uploads/{SESSION}/complete", "/images/batch"])
def test_malformed_json_is_a_400_in_the_one_error_shape(client: FlaskClient, path: str) -> None:
    response = raw(client, path, '{"filename": ')

    assert response.status_code == 400
    assert set(response.get_json()) >= {"code", "status", "message"}


def test_json_within_the_limits_is_read(client: FlaskClient) -> None:
    nested = {"filename": "a.png", "content_type": "image/png", "size": 10, "user_id": "alice"}
    response = raw(client, "/uploads", json.dumps(nested))

    assert response.status_code == 201, response.get_json()


class TestGallery:
    @pytest.fixture
    def browser(self, gallery: Flask) -> FlaskClient:
        browser = gallery.test_client()
        sign_in(browser, "alice")
        return browser

    @pytest.mark.parametrize("data", BODIES.values(), ids=BODIES.keys())
    @pytest.mark.parametrize("path", ["/photo-uploads", f"/photo-uploads/{SESSION}/complete"])
    def test_the_upload_script_gets_422_for_json_it_cannot_hold(
        self, browser: FlaskClient, path: str, data: str
    ) -> None:
        response = post(
            browser,
            path,
            data=data,
            content_type="application/json",
            headers=script_headers(browser),
        )

        assert_beyond_limits(response)


@pytest.mark.parametrize(
    "value", [BODIES["over-the-depth-limit"], "[" + HUGE + "]"], ids=["deep", "huge-integer"]
)
def test_json_in_a_query_value_is_held_to_the_same_limits(client: FlaskClient, value: str) -> None:
    response = client.get("/images", query_string={"tags": value})

    assert response.status_code == 422
    reasons = json.dumps(response.get_json()["errors"])
    assert "tags" in reasons
    assert f"nested more than {MAX_DEPTH} levels" in reasons or "digits" in reasons
