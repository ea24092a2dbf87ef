"""Upload sessions through the Flask test client, on moto's in-process S3 + DynamoDB + SQS. moto
does not enforce a presigned POST's policy (the container tests check LocalStack does); the
bytes are sent to the presigned URLs with ``requests``, which moto intercepts. ``complete``
hands the session to the worker, whose jobs ``run_jobs`` runs from the SQS queue."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import boto3
import pytest
import requests
from flask.testing import FlaskClient

from service.entrypoints.app import create_app
from service.settings import Settings
from tests.support.aws import moto_environment, small_settings
from tests.support.images import has_gps, jpeg, png, png_of_size, scan_data, sideways_jpeg
from tests.support.jobs import run_jobs

MIB = 1024 * 1024


@pytest.fixture
def uploads_settings() -> Any:
    settings = small_settings(max_file_size=64 * MIB, multipart_threshold=5 * MIB)
    with moto_environment(settings):
        yield settings


@pytest.fixture
def uploads_client(uploads_settings: Settings) -> FlaskClient:
    return create_app(uploads_settings).test_client()


def start(client: FlaskClient, data: bytes, **fields: Any) -> dict[str, Any]:
    body = {"filename": "cat.png", "content_type": "image/png", "size": len(data)}
    body |= {"user_id": "alice", "tags": ["cat"], "metadata": {"camera": "x"}} | fields
    response = client.post("/uploads", json=body)
    assert response.status_code == 201, response.get_json()
    ticket: dict[str, Any] = response.get_json()
    return ticket


def post_form(ticket: dict[str, Any], data: bytes) -> None:
    sent = requests.post(
        ticket["url"], data=ticket["fields"], files={"file": ("cat.png", data)}, timeout=30
    )
    assert sent.status_code in (200, 204), sent.text


def put_parts(ticket: dict[str, Any], data: bytes, numbers: list[int]) -> list[dict[str, Any]]:
    size = ticket["part_size"]
    urls = {p["part_number"]: p["url"] for p in ticket["parts"]}
    done = []
    for n in numbers:
        sent = requests.put(urls[n], data=data[(n - 1) * size : n * size], timeout=30)
        assert sent.status_code == 200, sent.text
        done.append({"part_number": n, "etag": sent.headers["ETag"]})
    return done


def finished(
    client: FlaskClient, settings: Settings, upload_id: str, parts: Sequence[dict[str, Any]] = ()
) -> dict[str, Any]:
    """Complete the upload, run the worker's jobs: the session as GET /uploads/{id} shows it."""
    done = client.post(f"/uploads/{upload_id}/complete", json={"parts": list(parts)})
    assert done.status_code == 202, done.get_json()
    assert run_jobs(settings) >= 1
    shown = client.get(f"/uploads/{upload_id}")
    assert shown.status_code == 200, shown.get_json()
    session: dict[str, Any] = shown.get_json()
    return session


def published(
    client: FlaskClient, settings: Settings, upload_id: str, parts: Sequence[dict[str, Any]] = ()
) -> dict[str, Any]:
    """Complete the upload, run the jobs: the image it made, as GET /images/{id} shows it."""
    session = finished(client, settings, upload_id, parts)
    assert session["status"] == "READY", session
    image = client.get(f"/images/{session['image_id']}")
    assert image.status_code == 200, image.get_json()
    shown: dict[str, Any] = image.get_json()
    return shown


def incoming(client: FlaskClient) -> list[str]:
    s3 = boto3.client("s3", region_name="us-east-1")
    listed = s3.list_objects_v2(Bucket="test-images-bucket", Prefix="incoming/")
    return [o["Key"] for o in listed.get("Contents", [])]


def test_a_presigned_post_then_complete_publishes_the_image(
    uploads_client: FlaskClient, uploads_settings: Settings
) -> None:
    data = png()
    ticket = start(uploads_client, data, sha256=hashlib.sha256(data).hexdigest())
    upload_id = ticket["upload_id"]
    assert ticket["method"] == "POST"
    assert ticket["fields"]["key"] == f"incoming/{upload_id}"
    assert ticket["fields"]["Content-Type"] == "image/png"
    post_form(ticket, data)
    done = uploads_client.post(f"/uploads/{upload_id}/complete", json={})
    assert done.status_code == 202, done.get_json()
    assert done.headers["Location"].endswith(f"/uploads/{upload_id}")
    assert done.get_json()["status"] == "PROCESSING"
    again = uploads_client.post(f"/uploads/{upload_id}/complete", json={})
    assert (again.status_code, again.get_json()["status"]) == (202, "PROCESSING")
    assert run_jobs(uploads_settings) == 2  # the job, sent again: one image all the same

    session = uploads_client.get(f"/uploads/{upload_id}").get_json()
    assert session["status"] == "READY"
    image = uploads_client.get(f"/images/{session['image_id']}").get_json()
    assert (image["user_id"], image["tags"], image["metadata"]) == (
        "alice",
        ["cat"],
        {"camera": "x"},
    )
    late = uploads_client.post(f"/uploads/{upload_id}/complete", json={})
    assert (late.status_code, late.get_json()["image_id"]) == (200, image["image_id"])
    link = uploads_client.get(f"/images/{image['image_id']}/download").get_json()
    assert requests.get(link["download_url"], timeout=30).content == data
    assert incoming(uploads_client) == []
    assert [i["image_id"] for i in uploads_client.get("/images").get_json()["items"]] == [
        image["image_id"]
    ]
    # AND every listing it belongs to shows it as a GET does (the entries carry the projection)
    shown = uploads_client.get(f"/images/{image['image_id']}").get_json()
    for query in ("user_id=alice", "tags=cat", "tags=cat&content_type=image/png", ""):
        listed = uploads_client.get(f"/images?{query}").get_json()["items"]
        assert listed == [shown], query


def test_a_posted_upload_is_stored_without_gps_and_described_as_post_images_does(
    uploads_client: FlaskClient, uploads_settings: Settings
) -> None:
    data = sideways_jpeg()
    ticket = start(uploads_client, data, filename="trip.jpg", content_type="image/jpeg")
    post_form(ticket, data)
    image = published(uploads_client, uploads_settings, ticket["upload_id"])
    link = uploads_client.get(f"/images/{image['image_id']}/download").get_json()
    stored = requests.get(link["download_url"], timeout=30).content

    assert not has_gps(stored)
    assert scan_data(stored) == scan_data(data)
    assert (image["size_bytes"], image["sha256"]) == (
        len(stored),
        hashlib.sha256(stored).hexdigest(),
    )
    assert (image["width"], image["height"]) == (300, 600)  # EXIF orientation applied
    assert image["exif"]["make"] == "Canon"
    assert "gps_present" not in image["exif"]  # AUTH_MODE=none: nobody is the owner
    assert incoming(uploads_client) == []


def test_a_multipart_upload_is_resumed_from_the_parts_s3_holds(
    uploads_client: FlaskClient, uploads_settings: Settings
) -> None:
    data = png_of_size(17 * MIB)
    ticket = start(uploads_client, data)
    upload_id = ticket["upload_id"]
    assert (ticket["method"], len(ticket["parts"])) == ("PUT", 3)
    first = put_parts(ticket, data, [1])
    state = uploads_client.get(f"/uploads/{upload_id}").get_json()
    assert [p["part_number"] for p in state["parts"]] == [1]
    assert state["missing_parts"] == [2, 3]
    resigned = uploads_client.post(
        f"/uploads/{upload_id}/parts", json={"part_numbers": state["missing_parts"]}
    ).get_json()
    rest = put_parts(ticket | resigned, data, [2, 3])
    image = published(uploads_client, uploads_settings, upload_id, [*first, *rest])
    assert image["size_bytes"] == len(data)
    assert incoming(uploads_client) == []


@pytest.mark.parametrize(
    ("sent", "fields", "failure"),
    [
        (png() + b"more", {"size": len(png())}, "bytes arrived; the session declared"),
        (b"GIF89a but not really", {}, "not an image in a recognised format"),
        (jpeg(), {}, "declared as image/png but its content is image/jpeg"),
        (png(), {"sha256": "a" * 64}, "not the declared one"),
    ],
    ids=["size", "garbage", "type", "sha256"],
)
def test_wrong_bytes_fail_the_session_with_its_reason_and_leave_nothing(
    uploads_client: FlaskClient,
    uploads_settings: Settings,
    sent: bytes,
    fields: dict[str, Any],
    failure: str,
) -> None:
    ticket = start(uploads_client, sent, **fields)
    post_form(ticket, sent)
    session = finished(uploads_client, uploads_settings, ticket["upload_id"])
    assert session["status"] == "FAILED", session
    assert failure in session["failure"]
    assert session["image_id"] is None
    assert incoming(uploads_client) == []
    assert uploads_client.get("/images").get_json()["items"] == []
    # a later complete answers how it ended
    late = uploads_client.post(f"/uploads/{ticket['upload_id']}/complete", json={})
    assert (late.status_code, late.get_json()["status"]) == (200, "FAILED")


def test_bad_session_requests(uploads_client: FlaskClient) -> None:
    too_big = uploads_client.post(
        "/uploads",
        json={"filename": "a.png", "content_type": "image/png", "size": 65 * MIB, "user_id": "a"},
    )
    assert too_big.status_code == 413
    wrong_type = uploads_client.post(
        "/uploads",
        json={"filename": "a.bmp", "content_type": "image/bmp", "size": 10, "user_id": "a"},
    )
    assert wrong_type.status_code == 422  # the document's enum of content types
    assert uploads_client.get("/uploads/01JAAAAAAAAAAAAAAAAAAAAAAA").status_code == 404
    ticket = start(uploads_client, png())
    early = uploads_client.post(f"/uploads/{ticket['upload_id']}/complete", json={})
    assert early.status_code == 422
    assert uploads_client.delete(f"/uploads/{ticket['upload_id']}").status_code == 204
    assert uploads_client.get(f"/uploads/{ticket['upload_id']}").status_code == 404


@pytest.mark.parametrize("user_id", ["alice\n", " alice"])
def test_an_upload_session_takes_the_user_id_as_sent(
    uploads_client: FlaskClient, user_id: str
) -> None:
    # As POST /images and the user_id filter do: surrounding whitespace is refused, not trimmed.
    response = uploads_client.post(
        "/uploads",
        json={"filename": "a.png", "content_type": "image/png", "size": 10, "user_id": user_id},
    )

    assert response.status_code == 422
    assert "user_id" in json.dumps(response.get_json()["errors"])
