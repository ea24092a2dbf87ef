"""The user's flow over real HTTP: gunicorn serving the app, moto's server as S3 + DynamoDB."""

from __future__ import annotations

import hashlib
import io
import json
import time
import uuid

import pytest
import requests
from PIL import Image as PILImage

from service.domain.rules import MAX_REQUEST_LINE
from tests.integration.processes import Stack
from tests.support.images import encode, jpeg, png, png_declaring
from tests.support.openapi_limits import longest_listing_query, parameters

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("integration")]


def upload(stack: Stack, data: bytes, **fields: str) -> requests.Response:
    filename = fields.pop("filename", "photo.jpg")
    declared = fields.pop("declared", None)
    part = (filename, data) if declared is None else (filename, data, declared)
    form = {"user_id": "user123", "description": "My photo", "tags": '["nature", "sunset"]'}
    form.update(fields)
    return requests.post(f"{stack.base_url}/images", files={"image": part}, data=form, timeout=30)


def test_upload_list_get_patch_download_delete(stack: Stack) -> None:
    user = f"user-{uuid.uuid4().hex[:6]}"
    photo = jpeg((64, 48))
    # GIVEN an image uploaded as the original design's example does
    created = upload(stack, photo, user_id=user, camera="x100")
    assert created.status_code == 201, created.text
    image = created.json()
    image_id = image["image_id"]
    assert created.headers["Location"] == f"/images/{image_id}"
    assert image["sha256"] == hashlib.sha256(photo).hexdigest()
    assert (image["width"], image["height"], image["content_type"]) == (64, 48, "image/jpeg")
    assert image["metadata"] == {"camera": "x100"}
    other = upload(stack, png(), user_id=user, tags="city", filename="b.png").json()

    # WHEN it is listed by each filter THEN exactly the matching images come back, newest first
    def listed(**params: str | list[str]) -> list[str]:
        response = requests.get(f"{stack.base_url}/images", params=params, timeout=30)
        assert response.status_code == 200, response.text
        return [item["image_id"] for item in response.json()["items"]]

    assert listed(user_id=user) == [other["image_id"], image_id]
    assert listed(user_id=user, tags="nature") == [image_id]
    assert listed(user_id=user, tags=["nature", "sunset"]) == [image_id]
    assert listed(user_id=user, tags="nature,city") == []
    assert listed(user_id=user, content_type="image/png") == [other["image_id"]]
    assert listed(user_id=user, date_from=image["created_at"], date_to=image["created_at"]) == [
        image_id
    ]

    fetched = requests.get(f"{stack.base_url}/images/{image_id}", timeout=30)
    assert fetched.json() == image

    patched = requests.patch(
        f"{stack.base_url}/images/{image_id}",
        json={"description": "Sunset at the beach", "tags": ["Beach"]},
        timeout=30,
    )
    assert patched.status_code == 200
    assert patched.json()["tags"] == ["beach"]
    assert patched.json()["sha256"] == image["sha256"]
    assert listed(user_id=user, tags="nature") == []
    assert listed(user_id=user, tags="beach") == [image_id]

    link = requests.get(f"{stack.base_url}/images/{image_id}/download", timeout=30).json()
    assert link["expires_in"] == 900
    assert link["download_url"].startswith(stack.emulator_url)
    downloaded = requests.get(link["download_url"], timeout=30)
    assert downloaded.content == photo
    assert downloaded.headers["Content-Type"] == "image/jpeg"
    assert 'filename="photo.jpg"' in downloaded.headers["Content-Disposition"]
    redirect = requests.get(
        f"{stack.base_url}/images/{image_id}/download?redirect=true",
        allow_redirects=False,
        timeout=30,
    )
    assert redirect.status_code == 302
    assert requests.get(redirect.headers["Location"], timeout=30).content == photo

    # a thumbnail is a redirect to the stored rendition (never enlarged)
    thumbnail = requests.get(f"{stack.base_url}/images/{image_id}/thumbnail?size=256", timeout=30)
    assert thumbnail.history[0].status_code == 302
    assert thumbnail.headers["Content-Type"] == "image/jpeg"
    assert PILImage.open(io.BytesIO(thumbnail.content)).size == (64, 48)

    deleted = requests.delete(f"{stack.base_url}/images/{image_id}", timeout=30)
    assert deleted.status_code == 204
    assert requests.get(f"{stack.base_url}/images/{image_id}", timeout=30).status_code == 404
    assert listed(user_id=user) == [other["image_id"]]
    # The object is gone too (S3 says 403 rather than 404 to those who may not list the bucket).
    assert requests.get(link["download_url"], timeout=30).status_code in (403, 404)


def test_pages_follow_cursors_across_workers(stack: Stack) -> None:
    user = f"pager-{uuid.uuid4().hex[:6]}"
    ids = [upload(stack, jpeg(), user_id=user).json()["image_id"] for _ in range(7)]
    seen: list[str] = []
    params: dict[str, str] = {"user_id": user, "limit": "3"}
    # Each request may land on either gunicorn worker: the cursor secret is shared.
    for _ in range(5):
        page = requests.get(f"{stack.base_url}/images", params=params, timeout=30).json()
        seen += [item["image_id"] for item in page["items"]]
        if not page["next_cursor"]:
            break
        params["cursor"] = page["next_cursor"]
    assert seen == list(reversed(ids))
    replayed = requests.get(
        f"{stack.base_url}/images",
        params={"user_id": "someone-else", "cursor": params["cursor"]},
        timeout=30,
    )
    assert replayed.status_code == 400
    assert replayed.json()["code"] == 400


@pytest.mark.parametrize(
    ("data", "fields", "status"),
    [
        (b"not an image", {}, 400),
        (jpeg()[:200], {}, 400),
        (b"", {}, 400),
        (png(), {"declared": "image/jpeg"}, 415),
        (encode("BMP"), {"filename": "a.bmp"}, 415),
        (png_declaring(30000, 30000), {"filename": "bomb.png"}, 413),
        (b"\xff" * (1024 * 1024 + 1), {}, 413),
        (jpeg(), {"tags": '{"a": 1}'}, 422),
    ],
    ids=["text", "truncated", "empty", "mismatch", "bmp", "bomb", "too-big", "bad-tags"],
)
def test_bad_uploads_get_a_json_error_and_store_nothing(
    stack: Stack, data: bytes, fields: dict[str, str], status: int
) -> None:
    user = f"bad-{uuid.uuid4().hex[:6]}"
    response = upload(stack, data, user_id=user, **fields)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == status
    assert set(body) <= {"code", "status", "message", "errors"}
    assert body["message"]
    listing = requests.get(f"{stack.base_url}/images", params={"user_id": user}, timeout=30)
    assert listing.json()["items"] == []


def test_health_openapi_and_docs(stack: Stack) -> None:
    assert requests.get(f"{stack.base_url}/health", timeout=30).json() == {"status": "ok"}
    ready = requests.get(f"{stack.base_url}/health/ready", timeout=30).json()
    assert ready["status"] == "ready"
    assert "AUTH_MODE=none" in ready["warnings"][0]  # this stack runs without sign-in
    spec = requests.get(f"{stack.base_url}/openapi.json", timeout=30).json()
    assert spec["openapi"].startswith("3.")
    assert "/images/{image_id}/download" in spec["paths"]
    docs = requests.get(f"{stack.base_url}/docs", timeout=30)
    assert "swagger-ui" in docs.text


def test_logs_are_json_lines_carrying_the_request_id(stack: Stack) -> None:
    request_id = f"it-{uuid.uuid4().hex}"
    response = requests.get(
        f"{stack.base_url}/images/01ARZ3NDEKTSV4RRFFQ69G5FAV",
        headers={"X-Request-Id": request_id},
        timeout=30,
    )
    assert response.status_code == 404
    assert response.headers["X-Request-Id"] == request_id
    # gunicorn writes its access log line just after the response has been sent.
    deadline = time.monotonic() + 10
    while True:
        lines = [json.loads(line) for line in stack.log.read_text().splitlines() if line.strip()]
        mine = [line for line in lines if line.get("request_id") == request_id]
        if mine or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    assert mine
    assert any("/images/01ARZ3NDEKTSV4RRFFQ69G5FAV" in line["message"] for line in mine)


def test_the_longest_listing_the_document_allows_is_answered_by_the_app(stack: Stack) -> None:
    spec = requests.get(f"{stack.base_url}/openapi.json", timeout=30).json()
    query = longest_listing_query(spec, set(parameters(spec, "/images")) - {"ids"})
    assert len(f"GET /images?{query} HTTP/1.1") > 4094  # gunicorn's default limit

    response = requests.get(f"{stack.base_url}/images?{query}", timeout=30)

    # The app's answer in the JSON error shape, not gunicorn's: the query holds every filter
    # at its longest, and capture-time filters do not combine with creation-time ones.
    assert response.headers["Content-Type"] == "application/json"
    assert response.status_code == 422, response.json()
    assert response.json()["code"] == 422


def test_a_request_line_over_the_limit_is_refused_by_gunicorn(stack: Stack) -> None:
    response = requests.get(f"{stack.base_url}/images?cursor={'A' * MAX_REQUEST_LINE}", timeout=30)

    assert response.status_code == 414
