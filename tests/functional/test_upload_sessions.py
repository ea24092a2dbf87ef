"""Upload sessions through the Flask test client, on moto's in-process S3 + DynamoDB. moto does
not enforce a presigned POST's policy (the container tests check LocalStack does); the bytes
are sent to the presigned URLs with ``requests``, which moto intercepts."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import boto3
import pytest
import requests
from flask.testing import FlaskClient

from service.entrypoints.app import create_app
from tests.support.aws import moto_environment, small_settings
from tests.support.images import has_gps, jpeg, png, png_of_size, scan_data, sideways_jpeg

MIB = 1024 * 1024


@pytest.fixture
def uploads_client() -> Any:
    settings = small_settings(max_file_size=64 * MIB, multipart_threshold=5 * MIB)
    with moto_environment(settings):
        yield create_app(settings).test_client()


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


def incoming(client: FlaskClient) -> list[str]:
    s3 = boto3.client("s3", region_name="us-east-1")
    listed = s3.list_objects_v2(Bucket="test-images-bucket", Prefix="incoming/")
    return [o["Key"] for o in listed.get("Contents", [])]


def test_a_presigned_post_then_complete_publishes_the_image(uploads_client: FlaskClient) -> None:
    data = png()
    ticket = start(uploads_client, data, sha256=hashlib.sha256(data).hexdigest())
    assert ticket["method"] == "POST"
    assert ticket["fields"]["key"] == f"incoming/{ticket['upload_id']}"
    assert ticket["fields"]["Content-Type"] == "image/png"
    post_form(ticket, data)
    done = uploads_client.post(f"/uploads/{ticket['upload_id']}/complete", json={})
    assert done.status_code == 201, done.get_json()
    image = done.get_json()
    assert done.headers["Location"].endswith(f"/images/{image['image_id']}")
    assert (image["user_id"], image["tags"], image["metadata"]) == (
        "alice",
        ["cat"],
        {"camera": "x"},
    )
    again = uploads_client.post(f"/uploads/{ticket['upload_id']}/complete", json={})
    assert (again.status_code, again.get_json()["image_id"]) == (201, image["image_id"])
    link = uploads_client.get(f"/images/{image['image_id']}/download").get_json()
    assert requests.get(link["download_url"], timeout=30).content == data
    assert incoming(uploads_client) == []
    # AND every listing it belongs to shows it as a GET does (the entries carry the projection)
    shown = uploads_client.get(f"/images/{image['image_id']}").get_json()
    for query in ("user_id=alice", "tags=cat", "tags=cat&content_type=image/png", ""):
        listed = uploads_client.get(f"/images?{query}").get_json()["items"]
        assert listed == [shown], query


def test_a_posted_upload_is_stored_without_gps_and_described_as_post_images_does(
    uploads_client: FlaskClient,
) -> None:
    data = sideways_jpeg()
    ticket = start(uploads_client, data, filename="trip.jpg", content_type="image/jpeg")
    post_form(ticket, data)
    done = uploads_client.post(f"/uploads/{ticket['upload_id']}/complete", json={})
    assert done.status_code == 201, done.get_json()
    image = done.get_json()
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
    uploads_client: FlaskClient,
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
    done = uploads_client.post(f"/uploads/{upload_id}/complete", json={"parts": first + rest})
    assert done.status_code == 201, done.get_json()
    assert done.get_json()["size_bytes"] == len(data)
    assert incoming(uploads_client) == []


@pytest.mark.parametrize(
    ("sent", "fields", "status"),
    [
        (png() + b"more", {"size": len(png())}, 422),
        (b"GIF89a but not really", {}, 400),
        (jpeg(), {}, 415),
        (png(), {"sha256": "a" * 64}, 422),
    ],
)
def test_wrong_bytes_get_a_json_error_and_leave_nothing(
    uploads_client: FlaskClient, sent: bytes, fields: dict[str, Any], status: int
) -> None:
    ticket = start(uploads_client, sent, **fields)
    post_form(ticket, sent)
    done = uploads_client.post(f"/uploads/{ticket['upload_id']}/complete", json={})
    assert done.status_code == status, done.get_json()
    assert set(done.get_json()) >= {"code", "status", "message"}
    assert incoming(uploads_client) == []
    assert uploads_client.get(f"/uploads/{ticket['upload_id']}").status_code == 404
    assert uploads_client.get("/images").get_json()["items"] == []


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
