"""The API when something breaks underneath it (Flask test client, moto's in-process S3 +
DynamoDB): a bug answers the one error shape without its details, and an upload that succeeded
is answered as such even when its idempotency record cannot be written."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pytest
from flask import Flask

from service.domain.idempotency_keys import StoredResponse
from service.entrypoints.app import create_app
from service.settings import Settings
from tests.support.aws import small_settings
from tests.support.forms import upload_form
from tests.support.images import jpeg

SECRET_DETAIL = "table images-prod at 10.0.3.7 refused"


def test_an_unexpected_error_is_a_500_in_the_one_shape_without_its_details(
    app: Flask, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError(SECRET_DETAIL)

    monkeypatch.setattr(app.extensions["image_service"], "search", broken)

    with caplog.at_level(logging.ERROR, logger="service.entrypoints.api.error_handlers"):
        response = app.test_client().get("/images?user_id=user123")

    assert response.status_code == 500
    assert response.get_json() == {
        "code": 500,
        "status": "Internal Server Error",
        "message": "Internal error",
    }
    assert SECRET_DETAIL not in response.get_data(as_text=True)
    assert response.headers["X-Request-Id"]
    # The operator finds the cause in the log, with its traceback.
    (record,) = [r for r in caplog.records if r.getMessage() == "unexpected error"]
    assert record.exc_info is not None
    assert SECRET_DETAIL in str(record.exc_info[1])


@dataclass
class UnwritableRecords:
    """An idempotency store that takes keys but cannot write their answers (DynamoDB down
    between the upload and the record)."""

    released: list[str] = field(default_factory=list)

    def begin(self, owner: str, key: str, request_hash: str) -> StoredResponse | None:
        return None

    def complete(self, owner: str, key: str, request_hash: str, response: StoredResponse) -> None:
        raise ConnectionError("the table did not answer")

    def release(self, owner: str, key: str) -> None:
        self.released.append(key)


@pytest.fixture
def settings() -> Settings:
    return small_settings(dedupe="per-user")


def test_an_upload_is_answered_even_when_its_answer_cannot_be_kept(
    aws: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    records = UnwritableRecords()
    client = create_app(aws, idempotency_store=records).test_client()

    def upload() -> tuple[int, str]:
        response = client.post(
            "/images",
            data=upload_form(jpeg(), user_id="alice"),
            content_type="multipart/form-data",
            headers={"Idempotency-Key": "retry-1"},
        )
        return response.status_code, response.get_json()["image_id"]

    with caplog.at_level(logging.WARNING, logger="service.entrypoints.api.idempotency"):
        first = upload()
    # The retry runs again (no answer was kept) and DEDUPE answers the same image.
    retried = upload()

    assert first[0] == 201
    assert retried == (200, first[1])
    listed = client.get("/images?user_id=alice").get_json()["items"]
    assert [image["image_id"] for image in listed] == [first[1]]
    assert records.released == []  # a success is never released as if it had failed
    assert any("could not update the idempotency record" in r.getMessage() for r in caplog.records)
