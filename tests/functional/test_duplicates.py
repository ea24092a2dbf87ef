"""DEDUPE over HTTP: a user's same bytes answer 200 with their image and ``duplicate_of``
through POST /images, and make a session READY with that image and ``duplicate`` through an
upload session, on moto's in-process S3 + DynamoDB + SQS."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from flask.testing import FlaskClient

from service.entrypoints.app import create_app
from service.settings import Settings
from tests.functional.test_upload_sessions import post_form, start
from tests.support.aws import moto_environment, small_settings
from tests.support.forms import upload_form
from tests.support.images import jpeg, png
from tests.support.jobs import run_jobs


def client_with(**overrides: Any) -> Iterator[FlaskClient]:
    settings = small_settings(**overrides)
    with moto_environment(settings):
        yield create_app(settings).test_client()


@pytest.fixture
def dedupe_settings() -> Iterator[Settings]:
    with moto_environment(small_settings(dedupe="per-user")) as settings:
        yield settings


@pytest.fixture
def dedupe_client(dedupe_settings: Settings) -> FlaskClient:
    return create_app(dedupe_settings).test_client()


@pytest.fixture
def no_dedupe_client() -> Iterator[FlaskClient]:
    yield from client_with(dedupe="off")


def post_image(client: FlaskClient, data: bytes, **fields: Any) -> Any:
    return client.post(
        "/images", data=upload_form(data, **fields), content_type="multipart/form-data"
    )


def listed(client: FlaskClient, user: str) -> list[str]:
    response = client.get(f"/images?user_id={user}")
    assert response.status_code == 200
    return [item["image_id"] for item in response.get_json()["items"]]


def originals() -> list[str]:
    s3 = boto3.client("s3", region_name="us-east-1")
    found = s3.list_objects_v2(Bucket="test-images-bucket", Prefix="originals/")
    return [o["Key"] for o in found.get("Contents", [])]


def test_the_same_bytes_again_answer_200_with_the_first_image(
    dedupe_client: FlaskClient,
) -> None:
    first = post_image(dedupe_client, jpeg(), user_id="alice", tags='["first"]')
    assert first.status_code == 201
    second = post_image(dedupe_client, jpeg(), user_id="alice", tags='["second"]')
    assert second.status_code == 200, second.get_json()
    body = second.get_json()
    assert body == first.get_json() | {"duplicate_of": first.get_json()["image_id"]}
    assert second.headers["Location"] == first.headers["Location"]
    assert second.headers["ETag"] == first.headers["ETag"]
    assert listed(dedupe_client, "alice") == [body["image_id"]]
    assert len(originals()) == 1
    # the image itself carries no duplicate_of
    assert "duplicate_of" not in dedupe_client.get(f"/images/{body['image_id']}").get_json()


def test_another_user_and_other_bytes_are_new_images(dedupe_client: FlaskClient) -> None:
    assert post_image(dedupe_client, jpeg(), user_id="alice").status_code == 201
    assert post_image(dedupe_client, jpeg(), user_id="bob").status_code == 201
    assert post_image(dedupe_client, png(), user_id="alice", filename="a.png").status_code == 201
    assert len(listed(dedupe_client, "alice")) == 2
    assert len(listed(dedupe_client, "bob")) == 1


def test_after_a_delete_the_same_bytes_are_a_new_image(dedupe_client: FlaskClient) -> None:
    first = post_image(dedupe_client, jpeg(), user_id="alice").get_json()
    assert dedupe_client.delete(f"/images/{first['image_id']}").status_code == 204
    again = post_image(dedupe_client, jpeg(), user_id="alice")
    assert again.status_code == 201
    assert again.get_json()["image_id"] != first["image_id"]


def test_with_dedupe_off_the_same_bytes_are_two_images(no_dedupe_client: FlaskClient) -> None:
    for _ in range(2):
        response = post_image(no_dedupe_client, jpeg(), user_id="alice")
        assert response.status_code == 201
        assert "duplicate_of" not in response.get_json()
    assert len(listed(no_dedupe_client, "alice")) == 2
    assert len(originals()) == 2


def test_an_upload_session_of_the_same_bytes_answers_the_existing_image(
    dedupe_client: FlaskClient, dedupe_settings: Settings
) -> None:
    data = png()
    first = post_image(dedupe_client, data, user_id="alice", filename="cat.png").get_json()
    ticket = start(dedupe_client, data)
    post_form(ticket, data)
    upload_id = ticket["upload_id"]
    assert dedupe_client.post(f"/uploads/{upload_id}/complete", json={}).status_code == 202

    run_jobs(dedupe_settings)

    session = dedupe_client.get(f"/uploads/{upload_id}").get_json()
    assert (session["status"], session["duplicate"]) == ("READY", True)
    assert session["image_id"] == first["image_id"]
    assert listed(dedupe_client, "alice") == [first["image_id"]]
    assert len(originals()) == 1
    # a later complete answers the same
    again = dedupe_client.post(f"/uploads/{upload_id}/complete", json={})
    assert again.status_code == 200, again.get_json()
    assert (again.get_json()["image_id"], again.get_json()["duplicate"]) == (
        first["image_id"],
        True,
    )
