"""Retries: 5xx, 429 and lost connections are tried again with backoff, under one
Idempotency-Key; other errors are raised at once, typed, with the API's JSON error."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from mpycloud import (
    ApiError,
    Client,
    Conflict,
    ConnectionFailed,
    NotFound,
    RetryPolicy,
    ServerError,
    ServiceUnavailable,
    TooManyRequests,
    ValidationFailed,
)
from tests.client.fake_service import API, FakeService, error
from tests.client.files import png_file


def test_an_upload_answered_503_is_sent_again_with_the_same_idempotency_key(
    client: Client, fake: FakeService, sleeps: list[float], tmp_path: Path
) -> None:
    fake.fail("POST", "/images", error(503, "Storage unavailable"), times=2)

    result = client.upload(png_file(tmp_path, "a.png", 500))

    posts = fake.requests_to("POST", "/images")
    assert len(posts) == 3
    assert len({p.headers["Idempotency-Key"] for p in posts}) == 1
    assert result.image.size_bytes == 500
    assert len(fake.images) == 1
    assert len(sleeps) == 2


def test_a_lost_answer_is_replayed_by_the_key_and_stores_nothing_twice(
    fake: FakeService, tmp_path: Path
) -> None:
    # GIVEN the first attempt was processed but its answer never came back
    photo = png_file(tmp_path, "a.png", 500)
    original = fake.handle

    def lose_first_answer(request: httpx.Request) -> httpx.Response:
        response = original(request)
        if len(fake.requests_to("POST", "/images")) == 1:
            raise httpx.ReadTimeout("answer lost", request=request)
        return response

    transport = httpx.MockTransport(lose_first_answer)

    # WHEN the client uploads
    with Client(API, transport=transport, sleep=lambda seconds: None) as client:
        result = client.upload(photo)

    # THEN the retry got the first answer again: one image, not a duplicate
    assert len(fake.images) == 1
    assert not result.duplicate
    assert result.image.image_id in fake.images


@pytest.mark.parametrize(
    ("status", "kind"), [(429, TooManyRequests), (500, ServerError), (502, ServerError)]
)
def test_throttling_and_server_errors_are_retried(
    client: Client, fake: FakeService, status: int, kind: type[ApiError]
) -> None:
    fake.fail("GET", "/images", error(status, "try later"), times=3)

    assert client.list_images().items == []
    assert len(fake.requests_to("GET", "/images")) == 4

    fake.fail("GET", "/images", error(status, "still failing"), times=4)
    with pytest.raises(kind) as raised:
        client.list_images()
    assert raised.value.status == status
    assert raised.value.message == "still failing"


def test_retry_after_is_honoured_and_backoff_grows(
    client: Client, fake: FakeService, sleeps: list[float]
) -> None:
    fake.fail("GET", "/images", error(503, "busy", **{"Retry-After": "3"}), times=1)
    fake.fail("GET", "/images", httpx.ConnectError("refused"), times=2)

    client.list_images()

    assert sleeps[0] >= 3
    assert 0.5 <= sleeps[1] <= 1.0  # second retry: between half and all of 0.5 * 2
    assert 1.0 <= sleeps[2] <= 2.0


def test_a_connection_that_keeps_failing_is_a_connection_error(
    client: Client, fake: FakeService
) -> None:
    fake.fail("GET", "/images/", httpx.ConnectError("refused"), times=10)

    with pytest.raises(ConnectionFailed, match=f"{API}/images/01M8000000000000000000000X"):
        client.get_image("01M8000000000000000000000X")
    assert len(fake.requests_to("GET", "/images/")) == 4


def test_a_storage_url_that_cannot_be_reached_is_named_without_its_signature(
    client: Client, fake: FakeService, tmp_path: Path
) -> None:
    image_id = client.upload(png_file(tmp_path, "a.png", 500)).image.image_id
    fake.fail("GET", "/originals/", httpx.ConnectError("refused"), times=10)

    with pytest.raises(ConnectionFailed) as failed:
        client.download(image_id, tmp_path / "copy.png")

    assert f"http://s3.test/originals/{image_id}" in str(failed.value)
    assert "Signature" not in str(failed.value)


def test_client_errors_are_raised_at_once_with_the_apis_json_error(
    client: Client, fake: FakeService, sleeps: list[float]
) -> None:
    body = {
        "code": 422,
        "status": "Unprocessable Entity",
        "message": "Invalid request parameters",
        "errors": {"query": {"limit": ["Must be between 1 and 100."]}},
    }
    fake.fail("GET", "/images", httpx.Response(422, json=body, headers={"X-Request-Id": "r-1"}))

    with pytest.raises(ValidationFailed) as raised:
        client.list_images(limit=500)

    assert raised.value.body == body
    assert raised.value.errors == body["errors"]
    assert raised.value.request_id == "r-1"
    assert raised.value.is_service_shape
    assert sleeps == []


def test_a_conflict_is_retried_only_while_the_same_key_still_runs(
    client: Client, fake: FakeService, tmp_path: Path
) -> None:
    fake.fail("POST", "/images", error(409, "in progress", **{"Retry-After": "1"}))
    assert client.upload(png_file(tmp_path, "a.png", 300)).image.image_id

    fake.fail("DELETE", "/images/", error(409, "changed meanwhile"))
    with pytest.raises(Conflict):
        client.delete_image("01M8000000000000000000000X")
    assert len(fake.requests_to("DELETE", "/images/")) == 1


def test_an_answer_that_is_not_the_services_json_still_gives_a_typed_error(
    client: Client, fake: FakeService
) -> None:
    fake.fail("GET", "/images/", httpx.Response(404, text="<html>Not Found</html>"))

    with pytest.raises(NotFound) as raised:
        client.get_image("01M8000000000000000000000X")

    assert not raised.value.is_service_shape
    assert "Not Found" in raised.value.message


def test_without_retries_the_first_failure_is_raised() -> None:
    transport = httpx.MockTransport(lambda request: error(503, "down"))
    with (
        Client(API, transport=transport, retry=RetryPolicy(attempts=1)) as client,
        pytest.raises(ServiceUnavailable),
    ):
        client.health()


def test_backoff_is_capped() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=5.0, max_retry_after=30.0)

    assert policy.delay(10, None, jitter=1.0) == 5.0
    assert policy.delay(0, None, jitter=0.0) == 0.5
    assert policy.delay(0, 600.0, jitter=0.0) == 30.0
