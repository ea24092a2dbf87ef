"""Each input is checked once, by the input rules (service.domain.rules), whichever endpoint
and encoding carries it: the same bad value gets the same answer everywhere."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from service.entrypoints.app import create_app
from tests.support.aws import moto_environment, small_settings
from tests.support.forms import upload_form
from tests.support.images import jpeg

BAD_TAG = "#sunset"
BAD_USER = "not a user!"


@pytest.fixture(scope="module")
def client() -> Iterator[FlaskClient]:
    settings = small_settings()
    with moto_environment(settings):
        yield create_app(settings).test_client()


@pytest.fixture(scope="module")
def image_id(client: FlaskClient) -> str:
    created = client.post("/images", data=upload_form(jpeg()))
    assert created.status_code == 201
    return str(created.get_json()["image_id"])


Send = Callable[[FlaskClient, str, dict[str, Any]], TestResponse]
NEW_UPLOAD = {"filename": "a.jpg", "content_type": "image/jpeg", "size": 10, "user_id": "u1"}
BY_TAG: dict[str, Send] = {
    "form": lambda c, _, v: c.post("/images", data=upload_form(jpeg(), tags=v["tags"])),
    "patch": lambda c, i, v: c.patch(f"/images/{i}", json={"tags": [v["tags"]]}),
    "session": lambda c, _, v: c.post("/uploads", json=NEW_UPLOAD | {"tags": [v["tags"]]}),
    "batch": lambda c, i, v: c.post(
        "/images/batch", json={"action": "add_tags", "ids": [i], "tags": [v["tags"]]}
    ),
    "query": lambda c, _, v: c.get("/images", query_string={"tags": v["tags"]}),
}
BY_USER: dict[str, Send] = {
    "form": lambda c, _, v: c.post("/images", data=upload_form(jpeg(), user_id=v["user_id"])),
    "session": lambda c, _, v: c.post("/uploads", json=NEW_UPLOAD | {"user_id": v["user_id"]}),
    "query": lambda c, _, v: c.get("/images", query_string={"user_id": v["user_id"]}),
}


def refusals(
    client: FlaskClient, image_id: str, sends: dict[str, Send], value: dict[str, str]
) -> dict[str, Any]:
    answers = {name: send(client, image_id, value) for name, send in sends.items()}
    assert {name: a.status_code for name, a in answers.items()} == dict.fromkeys(answers, 422)
    return {name: a.get_json()["errors"] for name, a in answers.items()}


def test_a_bad_tag_gets_the_same_refusal_from_every_endpoint(
    client: FlaskClient, image_id: str
) -> None:
    errors = refusals(client, image_id, BY_TAG, {"tags": BAD_TAG})
    assert len({repr(e) for e in errors.values()}) == 1, errors


def test_a_bad_user_id_gets_the_same_refusal_from_every_endpoint(
    client: FlaskClient, image_id: str
) -> None:
    errors = refusals(client, image_id, BY_USER, {"user_id": BAD_USER})
    assert len({repr(e) for e in errors.values()}) == 1, errors
