"""Every decoding slot taken: the client gets a 503 that says when to come back."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask.testing import FlaskClient
from PIL import Image
from werkzeug.test import TestResponse

from service.adapters.decode_slots import DecodeSlots
from service.domain.errors import DecoderBusy


def photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (80, 60), "teal").save(buffer, format="JPEG")
    return buffer.getvalue()


def upload(client: FlaskClient) -> TestResponse:
    form = {"user_id": "busy-user", "image": (io.BytesIO(photo()), "photo.jpg")}
    return client.post("/images", data=form, content_type="multipart/form-data")


def taken(retry_after: int) -> Callable[[DecodeSlots], Any]:
    """A DecodeSlots.slot that finds every slot taken."""

    @contextmanager
    def slot(self: DecodeSlots) -> Iterator[None]:
        raise DecoderBusy(retry_after)
        yield  # pragma: no cover - a generator that never gets this far

    return slot


def assert_busy(response: TestResponse, retry_after: int) -> None:
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(retry_after)
    assert response.get_json() == {
        "code": 503,
        "status": "Service Unavailable",
        "message": f"The server is busy decoding other images; retry in {retry_after} seconds",
    }


def test_an_upload_that_finds_every_slot_taken_gets_503_and_stores_nothing(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(DecodeSlots, "slot", taken(4))

    assert_busy(upload(client), 4)
    assert client.get("/images?user_id=busy-user").get_json()["items"] == []


def test_a_thumbnail_that_finds_every_slot_taken_gets_503(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = upload(client)
    assert created.status_code == 201
    image_id = created.get_json()["image_id"]
    monkeypatch.setattr(DecodeSlots, "slot", taken(10))

    # The first request for a rendition renders it: it needs a decode slot.
    assert_busy(client.get(f"/images/{image_id}/thumbnail?size=256"), 10)

    monkeypatch.undo()
    assert client.get(f"/images/{image_id}/thumbnail?size=256").status_code == 302


def test_other_errors_carry_no_retry_after(client: FlaskClient) -> None:
    response = client.get("/images/01ARZ3NDEKTSV4RRFFQ69G5FAV/thumbnail")

    assert response.status_code == 404
    assert "Retry-After" not in response.headers
