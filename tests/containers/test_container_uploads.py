"""Upload sessions against the emulator in a container: S3 itself enforces the presigned POST's
policy (LocalStack does; moto does not, so those tests need LocalStack), a multipart upload is
resumed after an interruption, and Lambda mode takes a file beyond its 4.5 MB request cap.
Complete hands each to the worker (``jobs_worker``), which makes it READY."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
import requests

from tests.containers.harness import Emulator, bearer
from tests.containers.sessions import wait_ready
from tests.support.apigw_events import header, http_api_event, json_body
from tests.support.images import png, png_of_size

pytestmark = [pytest.mark.containers, pytest.mark.xdist_group("containers")]
MIB = 1024 * 1024


def padded(size: int) -> bytes:
    """A valid PNG of ``size`` bytes, unique: nothing follows its end, which a stored original
    would not keep."""
    return png_of_size(size)


def start(service_url: str, data: bytes, **fields: Any) -> dict[str, Any]:
    body = {"filename": "big.png", "content_type": "image/png", "size": len(data)}
    body |= {"user_id": f"up-{uuid.uuid4().hex[:8]}"} | fields
    response = requests.post(f"{service_url}/uploads", json=body, timeout=30)
    assert response.status_code == 201, response.text
    ticket: dict[str, Any] = response.json()
    return ticket


def post_form(ticket: dict[str, Any], data: bytes, content_type: str = "image/png") -> Any:
    fields = ticket["fields"] | {"Content-Type": content_type}
    return requests.post(
        ticket["url"], data=fields, files={"file": ("big.png", data, content_type)}, timeout=60
    )


@pytest.fixture
def localstack(aws_resources: Emulator) -> None:
    if aws_resources.kind != "localstack":
        pytest.skip("moto does not enforce presigned POST policies")


@pytest.mark.usefixtures("localstack")
def test_s3_refuses_a_post_of_another_size_or_type(service_url: str) -> None:
    data = png()
    ticket = start(service_url, data)
    assert post_form(ticket, data + b"x").status_code in (400, 403)
    assert post_form(ticket, data, content_type="image/gif").status_code in (400, 403)
    done = requests.post(f"{service_url}/uploads/{ticket['upload_id']}/complete", timeout=30)
    assert done.status_code == 422, done.text  # nothing arrived: the session stays open
    assert post_form(ticket, data).status_code in (200, 204)
    done = requests.post(f"{service_url}/uploads/{ticket['upload_id']}/complete", timeout=30)
    assert done.status_code == 202, done.text
    wait_ready(service_url, ticket["upload_id"])


def test_a_40_mb_multipart_upload_is_interrupted_and_resumed(service_url: str) -> None:
    data = padded(40 * MIB)
    ticket = start(service_url, data)
    upload_id, size = ticket["upload_id"], ticket["part_size"]
    assert ticket["method"] == "PUT"
    urls = {p["part_number"]: p["url"] for p in ticket["parts"]}
    assert sorted(urls) == list(range(1, -(-len(data) // size) + 1))
    first = requests.put(urls[1], data=data[:size], timeout=60)
    assert first.status_code == 200, first.text
    # The client is interrupted here, and later asks what S3 holds.
    state = requests.get(f"{service_url}/uploads/{upload_id}", timeout=30).json()
    assert [p["part_number"] for p in state["parts"]] == [1]
    missing = state["missing_parts"]
    resigned = requests.post(
        f"{service_url}/uploads/{upload_id}/parts", json={"part_numbers": missing}, timeout=30
    ).json()
    etags = [{"part_number": 1, "etag": state["parts"][0]["etag"]}]
    for part in resigned["parts"]:
        n = part["part_number"]
        sent = requests.put(part["url"], data=data[(n - 1) * size : n * size], timeout=60)
        assert sent.status_code == 200, sent.text
        etags.append({"part_number": n, "etag": sent.headers["ETag"]})
    done = requests.post(
        f"{service_url}/uploads/{upload_id}/complete", json={"parts": etags}, timeout=120
    )
    assert done.status_code == 202, done.text
    image_id = wait_ready(service_url, upload_id)["image_id"]
    image = requests.get(f"{service_url}/images/{image_id}", timeout=30).json()
    assert image["size_bytes"] == len(data)
    link = requests.get(f"{service_url}/images/{image_id}/download", timeout=30).json()
    assert requests.get(link["download_url"], timeout=60).content == data


def test_lambda_takes_12_mb_through_an_upload_session(lambda_runtime: Any) -> None:
    user = f"lambda-up-{uuid.uuid4().hex[:8]}"
    auth = bearer(user)
    data = padded(12 * MIB)

    def call(method: str, path: str, body: Any = None) -> dict[str, Any]:
        headers = {**auth, "Content-Type": "application/json"}
        raw = json.dumps(body).encode() if body is not None else None
        response: dict[str, Any] = lambda_runtime.invoke(
            http_api_event(method, path, body=raw, headers=headers)
        )
        return response

    opened = call(
        "POST", "/uploads", {"filename": "big.png", "content_type": "image/png", "size": len(data)}
    )
    assert opened["statusCode"] == 201, opened
    ticket = json_body(opened)
    sent = post_form(ticket, data)
    assert sent.status_code in (200, 204), sent.text
    done = call("POST", f"/uploads/{ticket['upload_id']}/complete", {})
    assert done["statusCode"] == 202, done
    assert header(done, "Location").endswith(f"/uploads/{ticket['upload_id']}")
    deadline = time.monotonic() + 120
    session = json_body(done)
    while session["status"] == "PROCESSING" and time.monotonic() < deadline:
        time.sleep(0.25)
        session = json_body(call("GET", f"/uploads/{ticket['upload_id']}"))
    assert session["status"] == "READY", session
    image = json_body(call("GET", f"/images/{session['image_id']}"))
    assert (image["user_id"], image["size_bytes"]) == (user, len(data))
    link = json_body(call("GET", f"/images/{image['image_id']}/download"))
    assert requests.get(link["download_url"], timeout=60).content == data
