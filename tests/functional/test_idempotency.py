"""``Idempotency-Key`` on POST /images, POST /uploads and complete, through the Flask test
client on moto's in-process S3 + DynamoDB."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.adapters.dynamodb.idempotency_store import DynamoDBIdempotencyStore
from service.domain.idempotency_keys import RETENTION_SECONDS
from service.entrypoints.app import create_app
from service.settings import Settings
from tests.functional.test_sign_in import ISSUER_KEYS, bearer, jwt_settings
from tests.functional.test_upload_sessions import post_form
from tests.support.aws import moto_environment, small_settings
from tests.support.forms import upload_form
from tests.support.images import jpeg, png
from tests.support.jobs import run_jobs
from tests.support.tokens import verifier_for


@pytest.fixture
def settings() -> Settings:
    return small_settings()


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    with moto_environment(settings):
        yield create_app(settings)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def post_image(client: FlaskClient, data: bytes, key: str | None = "k-1", **fields: Any) -> Any:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(
        "/images",
        data=upload_form(data, **fields),
        content_type="multipart/form-data",
        headers=headers,
    )


def listed(client: FlaskClient, user: str) -> list[str]:
    return [i["image_id"] for i in client.get(f"/images?user_id={user}").get_json()["items"]]


def store(settings: Settings, clock: Any = time.time) -> DynamoDBIdempotencyStore:
    client = boto3.client("dynamodb", region_name="us-east-1")
    return DynamoDBIdempotencyStore(client, settings.dynamodb_table_name, clock)


def test_a_replay_answers_the_first_answer_and_stores_one_image(client: FlaskClient) -> None:
    first = post_image(client, jpeg(), user_id="alice", tags='["a"]')
    assert first.status_code == 201
    again = post_image(client, jpeg(), user_id="alice", tags='["a"]')
    assert again.status_code == 201
    assert again.get_data() == first.get_data()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert listed(client, "alice") == [first.get_json()["image_id"]]


def test_without_a_key_every_request_runs(client: FlaskClient) -> None:
    for _ in range(2):
        assert post_image(client, jpeg(), key=None, user_id="alice").status_code == 201
    assert len(listed(client, "alice")) == 2


def test_the_same_key_on_another_request_is_422(client: FlaskClient) -> None:
    assert post_image(client, jpeg(), user_id="alice").status_code == 201
    other = post_image(client, png(), user_id="alice", filename="a.png")
    assert other.status_code == 422, other.get_json()
    assert "Idempotency-Key" in other.get_json()["message"]
    other_fields = post_image(client, jpeg(), user_id="alice", tags='["changed"]')
    assert other_fields.status_code == 422
    assert len(listed(client, "alice")) == 1


def test_a_replay_while_the_first_runs_is_409(client: FlaskClient, settings: Settings) -> None:
    # GIVEN a request with this key still running (its record IN_PROGRESS)
    running = store(settings)
    assert running.begin("alice", "k-1", "the first request") is None
    # WHEN it is sent again, THEN 409, and nothing is stored
    busy = post_image(client, jpeg(), user_id="alice")
    assert busy.status_code == 409, busy.get_json()
    assert busy.headers["Retry-After"] == "1"
    assert "still running" in busy.get_json()["message"]
    assert listed(client, "alice") == []
    # AND once the first failed (released), a retry runs
    running.release("alice", "k-1")
    assert post_image(client, jpeg(), user_id="alice").status_code == 201


def test_a_request_that_died_leaves_its_key_after_a_while(
    client: FlaskClient, settings: Settings
) -> None:
    # GIVEN a request that began ten minutes ago and never finished (its process died)
    dead = store(settings, clock=lambda: time.time() - 600)
    assert dead.begin("alice", "k-1", "the first request") is None
    # THEN the key is taken over
    assert post_image(client, jpeg(), user_id="alice").status_code == 201


def test_another_user_with_the_same_key_is_independent(client: FlaskClient) -> None:
    mine = post_image(client, jpeg(), user_id="alice")
    theirs = post_image(client, jpeg(), user_id="bob")
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.get_json()["image_id"] != theirs.get_json()["image_id"]


def test_an_expired_record_is_replaced(client: FlaskClient, settings: Settings) -> None:
    # GIVEN a record of another request, a day and more old
    old = store(settings, clock=lambda: time.time() - RETENTION_SECONDS - 60)
    assert old.begin("alice", "k-1", "an old request") is None
    # WHEN the key is used again, THEN it runs as a new request
    response = post_image(client, jpeg(), user_id="alice")
    assert response.status_code == 201, response.get_json()
    assert post_image(client, jpeg(), user_id="alice").headers["Idempotent-Replayed"] == "true"


def test_a_failed_request_releases_its_key(client: FlaskClient) -> None:
    refused = post_image(client, b"not an image", user_id="alice")
    assert refused.status_code == 400
    assert post_image(client, jpeg(), user_id="alice").status_code == 201


@pytest.mark.parametrize("key", ["", "a" * 129, "with space", "é"])
def test_an_invalid_key_is_422(client: FlaskClient, key: str) -> None:
    response = post_image(client, jpeg(), key=key, user_id="alice")
    assert response.status_code == 422
    assert listed(client, "alice") == []


def test_upload_sessions_replay_open_and_complete(client: FlaskClient, settings: Settings) -> None:
    data = png()
    body = {"filename": "cat.png", "content_type": "image/png", "size": len(data)}
    body["user_id"] = "alice"
    opened = client.post("/uploads", json=body, headers={"Idempotency-Key": "open-1"})
    assert opened.status_code == 201
    again = client.post("/uploads", json=body, headers={"Idempotency-Key": "open-1"})
    assert (again.status_code, again.get_data()) == (201, opened.get_data())
    other = client.post(
        "/uploads", json=body | {"size": len(data) + 1}, headers={"Idempotency-Key": "open-1"}
    )
    assert other.status_code == 422
    ticket = opened.get_json()
    post_form(ticket, data)
    path = f"/uploads/{ticket['upload_id']}/complete"
    done = client.post(path, json={}, headers={"Idempotency-Key": "done-1"})
    assert done.status_code == 202
    replay = client.post(path, json={}, headers={"Idempotency-Key": "done-1"})
    assert (replay.status_code, replay.get_data()) == (202, done.get_data())
    assert replay.headers["Location"] == done.headers["Location"]
    assert replay.headers["Idempotent-Replayed"] == "true"
    # the replay sent no second job: one job on the queue
    assert run_jobs(settings) == 1


def test_a_replayed_complete_says_when_to_look_again_as_the_first_did(client: FlaskClient) -> None:
    data = png()
    body = {"filename": "cat.png", "content_type": "image/png", "size": len(data)}
    ticket = client.post("/uploads", json=body | {"user_id": "alice"}).get_json()
    post_form(ticket, data)
    path = f"/uploads/{ticket['upload_id']}/complete"
    done = client.post(path, json={}, headers={"Idempotency-Key": "done-2"})
    assert (done.status_code, done.headers["Retry-After"]) == (202, "1")

    replay = client.post(path, json={}, headers={"Idempotency-Key": "done-2"})

    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.headers.get("Retry-After") == done.headers["Retry-After"]


@pytest.fixture
def signed_in_client() -> Iterator[FlaskClient]:
    with moto_environment(jwt_settings()) as settings:
        yield create_app(settings, token_verifier=verifier_for(ISSUER_KEYS)).test_client()


def test_signed_in_users_keys_are_their_own(signed_in_client: FlaskClient) -> None:
    def send(user: str) -> Any:
        return signed_in_client.post(
            "/images",
            data={"image": (io.BytesIO(jpeg()), "photo.jpg")},
            headers=bearer(user) | {"Idempotency-Key": "same-key"},
            content_type="multipart/form-data",
        )

    alice, bob = send("alice"), send("bob")
    assert (alice.status_code, bob.status_code) == (201, 201)
    assert alice.get_json()["image_id"] != bob.get_json()["image_id"]
    again = send("alice")
    assert (again.status_code, again.get_data()) == (201, alice.get_data())
