"""Upload sessions over HTTP, as a client makes them (the bytes sent to the presigned POST or
part URLs), and the jobs queue as SQS shows it: helpers of the worker tests."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests

from service.domain.sessions import INCOMING_PREFIX
from tests.containers.harness import BUCKET, DEAD_LETTERS_SUFFIX

MIB = 1024 * 1024
FINISHED = ("READY", "FAILED")


def new_user(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def open_upload(
    api_url: str, data: bytes, *, user_id: str, content_type: str, filename: str
) -> dict[str, Any]:
    body = {
        "filename": filename,
        "content_type": content_type,
        "size": len(data),
        "user_id": user_id,
    }
    response = requests.post(f"{api_url}/uploads", json=body, timeout=30)
    assert response.status_code == 201, response.text
    ticket: dict[str, Any] = response.json()
    return ticket


def send(ticket: dict[str, Any], data: bytes, content_type: str) -> list[dict[str, Any]]:
    """The bytes, to the presigned POST or to each presigned part URL; the parts' ETags."""
    if ticket["method"] == "POST":
        fields = ticket["fields"] | {"Content-Type": content_type}
        posted = requests.post(
            ticket["url"], data=fields, files={"file": ("f", data, content_type)}, timeout=120
        )
        assert posted.status_code in (200, 204), posted.text
        return []
    size, etags = ticket["part_size"], []
    for part in ticket["parts"]:
        number = part["part_number"]
        chunk = data[(number - 1) * size : number * size]
        sent = requests.put(part["url"], data=chunk, timeout=300)
        assert sent.status_code == 200, sent.text
        etags.append({"part_number": number, "etag": sent.headers["ETag"]})
    return etags


def complete(api_url: str, upload_id: str, parts: list[dict[str, Any]]) -> requests.Response:
    return requests.post(
        f"{api_url}/uploads/{upload_id}/complete", json={"parts": parts}, timeout=60
    )


def upload(
    api_url: str,
    data: bytes,
    *,
    user_id: str,
    content_type: str = "image/jpeg",
    filename: str = "photo.jpg",
) -> dict[str, Any]:
    """A whole session up to its complete, which hands it to the worker: 202, PROCESSING."""
    ticket = open_upload(
        api_url, data, user_id=user_id, content_type=content_type, filename=filename
    )
    done = complete(api_url, ticket["upload_id"], send(ticket, data, content_type))
    assert done.status_code == 202, done.text
    session: dict[str, Any] = done.json()
    assert session["status"] == "PROCESSING", session
    assert done.headers["Location"].endswith(f"/uploads/{ticket['upload_id']}")
    assert int(done.headers["Retry-After"]) >= 1
    return session


def session_of(api_url: str, upload_id: str) -> dict[str, Any]:
    response = requests.get(f"{api_url}/uploads/{upload_id}", timeout=30)
    assert response.status_code == 200, response.text
    session: dict[str, Any] = response.json()
    return session


def wait_finished(api_url: str, upload_id: str, timeout: float = 120) -> dict[str, Any]:
    """The session once READY or FAILED, as a client watching it sees it."""
    deadline = time.monotonic() + timeout
    while True:
        session = session_of(api_url, upload_id)
        if session["status"] in FINISHED:
            return session
        if time.monotonic() > deadline:
            pytest.fail(f"upload {upload_id} still {session['status']} after {timeout:.0f}s")
        time.sleep(0.25)


def wait_ready(api_url: str, upload_id: str, timeout: float = 120) -> dict[str, Any]:
    session = wait_finished(api_url, upload_id, timeout)
    assert session["status"] == "READY", session
    assert session["image_id"], session
    return session


def images_of(api_url: str, user_id: str) -> list[dict[str, Any]]:
    response = requests.get(f"{api_url}/images", params={"user_id": user_id}, timeout=30)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def download(api_url: str, image_id: str) -> bytes:
    link = requests.get(f"{api_url}/images/{image_id}/download", timeout=30)
    assert link.status_code == 200, link.text
    content = requests.get(link.json()["download_url"], timeout=300)
    assert content.status_code == 200, content.text
    return content.content


def arrived_keys(s3: Any, upload_id: str) -> list[str]:
    """What is left under incoming/ of an upload (the object, its rewrite without location)."""
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{INCOMING_PREFIX}{upload_id}")
    return [item["Key"] for item in listed.get("Contents", [])]


# --- the queue ---------------------------------------------------------------------------------


def queue_url(sqs: Any, name: str) -> str:
    url: str = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    return url


def dead_letters_url(sqs: Any, name: str) -> str:
    return queue_url(sqs, name + DEAD_LETTERS_SUFFIX)


def counts(sqs: Any, url: str) -> tuple[int, int]:
    """Messages waiting, and messages in flight (received, not yet deleted)."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return (
        int(attributes["ApproximateNumberOfMessages"]),
        int(attributes["ApproximateNumberOfMessagesNotVisible"]),
    )


@contextmanager
def visibility_timeout(sqs: Any, url: str, seconds: int) -> Iterator[None]:
    """The queue's VisibilityTimeout lowered for a test (a job a worker failed or died with
    comes back after it), then as it was."""
    before = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": str(seconds)})
    try:
        yield
    finally:
        sqs.set_queue_attributes(QueueUrl=url, Attributes=before["Attributes"])
