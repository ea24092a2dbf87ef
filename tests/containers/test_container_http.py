"""The image in gunicorn mode, next to an AWS emulator: the whole user flow over HTTP."""

from __future__ import annotations

import hashlib
import io
import json
import uuid

import pytest
import requests
from testcontainers.core.container import DockerContainer

from tests.containers.harness import bearer
from tests.support.images import assert_upright_rendition, has_gps, png, sideways_jpeg

pytestmark = [pytest.mark.containers, pytest.mark.xdist_group("containers")]


def upload(base_url: str, user_id: str, data: bytes, **fields: str) -> requests.Response:
    form = {"user_id": user_id, "description": "My photo", "tags": '["nature", "sunset"]'}
    form.update(fields)
    return requests.post(
        f"{base_url}/images",
        files={"image": ("photo.png", io.BytesIO(data), "image/png")},
        data=form,
        timeout=30,
    )


def assert_error_body(response: requests.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == status
    assert isinstance(body["status"], str)
    assert body["status"]
    assert isinstance(body["message"], str)
    assert body["message"]


def test_health_and_readiness(service_url: str) -> None:
    live = requests.get(f"{service_url}/health", timeout=10)
    assert live.status_code == 200
    assert live.json() == {"status": "ok"}
    assert requests.get(f"{service_url}/health/ready", timeout=10).status_code == 200


def test_runs_as_non_root_on_a_read_only_file_system(service_container: DockerContainer) -> None:
    container = service_container.get_wrapped_container()
    container.reload()
    assert container.attrs["HostConfig"]["ReadonlyRootfs"] is True
    uid = service_container.exec(["id", "-u"])
    assert uid.exit_code == 0
    assert uid.output.decode().strip() != "0"
    # The image's HEALTHCHECK command, run now rather than waiting for its first interval.
    health = service_container.exec(["python", "/app/docker/healthcheck.py"])
    assert health.exit_code == 0, health.output


def test_openapi_and_docs(service_url: str) -> None:
    spec = requests.get(f"{service_url}/openapi.json", timeout=10)
    assert spec.status_code == 200
    assert "/images" in spec.json()["paths"]
    docs = requests.get(f"{service_url}/docs", timeout=10)
    assert docs.status_code == 200
    assert "openapi.json" in docs.text


def test_thumbnail_redirects_to_an_upright_rendition_without_exif(service_url: str) -> None:
    created = requests.post(
        f"{service_url}/images",
        files={"image": ("sideways.jpg", io.BytesIO(sideways_jpeg()), "image/jpeg")},
        data={"user_id": f"user-{uuid.uuid4().hex[:8]}"},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    image = created.json()
    assert (image["width"], image["height"]) == (300, 600)
    assert image["exif"]["taken_at"] == "2024-05-06T07:08:09+02:00"
    thumbnail = f"{service_url}/images/{image['image_id']}/thumbnail"
    for size, expected in ((256, (128, 256)), (1024, (300, 600))):
        redirect = requests.get(thumbnail, params={"size": size}, allow_redirects=False, timeout=30)
        assert redirect.status_code == 302, redirect.text
        fetched = requests.get(redirect.headers["Location"], timeout=10)
        assert fetched.status_code == 200, fetched.text
        assert_upright_rendition(fetched.content, expected)
    # stored once: the second request is the same rendition, straight from the metadata
    again = requests.get(thumbnail, params={"size": "256", "redirect": "false"}, timeout=10)
    assert again.json()["width"] == 128
    listed = requests.get(f"{service_url}/images/{image['image_id']}", timeout=10).json()
    assert [r["size"] for r in listed["renditions"]] == [256, 1024]
    # the original downloads without GPS
    download = requests.get(f"{service_url}/images/{image['image_id']}/download", timeout=10)
    original = requests.get(download.json()["download_url"], timeout=10).content
    assert not has_gps(original)
    assert hashlib.sha256(original).hexdigest() == image["sha256"]


def test_user_flow(service_url: str) -> None:
    user = f"user-{uuid.uuid4().hex[:8]}"
    data = png()

    created = upload(service_url, user, data, camera="X100")
    assert created.status_code == 201, created.text
    image = created.json()
    image_id = image["image_id"]
    assert created.headers["Location"].endswith(f"/images/{image_id}")
    assert image["user_id"] == user
    assert image["description"] == "My photo"
    assert sorted(image["tags"]) == ["nature", "sunset"]
    assert image["content_type"] == "image/png"
    assert image["size_bytes"] == len(data)
    assert (image["width"], image["height"]) == (32, 24)
    assert image["sha256"] == hashlib.sha256(data).hexdigest()
    assert image["original_filename"] == "photo.png"
    assert image["metadata"].get("camera") == "X100"

    fetched = requests.get(f"{service_url}/images/{image_id}", timeout=10)
    assert fetched.status_code == 200
    assert fetched.json()["image_id"] == image_id

    def listed(**params: str | list[str]) -> list[str]:
        response = requests.get(f"{service_url}/images", params=params, timeout=10)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "next_cursor" in body
        return [item["image_id"] for item in body["items"]]

    assert image_id in listed(user_id=user)
    assert image_id in listed(user_id=user, tags="nature")
    assert image_id in listed(tags="sunset")
    assert image_id not in listed(user_id=user, tags="city")
    assert image_id in listed(user_id=user, content_type="image/png")
    assert image_id not in listed(user_id=user, content_type="image/jpeg")

    patched = requests.patch(
        f"{service_url}/images/{image_id}",
        json={"description": "Sunset at the lake", "tags": ["lake", "sunset"]},
        timeout=10,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["description"] == "Sunset at the lake"
    assert sorted(patched.json()["tags"]) == ["lake", "sunset"]
    assert image_id in listed(user_id=user, tags="lake")
    assert image_id not in listed(user_id=user, tags="nature")

    download = requests.get(f"{service_url}/images/{image_id}/download", timeout=10)
    assert download.status_code == 200, download.text
    assert download.json()["expires_in"] > 0
    # Signed for the emulator's host-mapped endpoint (S3_PUBLIC_ENDPOINT_URL): opens from here.
    content = requests.get(download.json()["download_url"], timeout=10)
    assert content.status_code == 200, content.text
    assert content.content == data

    redirect = requests.get(
        f"{service_url}/images/{image_id}/download",
        params={"redirect": "true"},
        allow_redirects=False,
        timeout=10,
    )
    assert redirect.status_code == 302
    assert requests.get(redirect.headers["Location"], timeout=10).content == data

    deleted = requests.delete(f"{service_url}/images/{image_id}", timeout=10)
    assert deleted.status_code == 204
    assert_error_body(requests.get(f"{service_url}/images/{image_id}", timeout=10), 404)
    assert image_id not in listed(user_id=user)


def test_pagination_across_workers(service_url: str) -> None:
    """Cursors signed by one gunicorn worker are accepted by the others (shared secret)."""
    user = f"user-{uuid.uuid4().hex[:8]}"
    ids = {
        upload(service_url, user, png(color=c)).json()["image_id"] for c in ("red", "green", "blue")
    }
    seen: list[str] = []
    params: dict[str, str] = {"user_id": user, "limit": "1"}
    for _ in range(10):
        page = requests.get(f"{service_url}/images", params=params, timeout=10)
        assert page.status_code == 200, page.text
        seen += [item["image_id"] for item in page.json()["items"]]
        if not page.json()["next_cursor"]:
            break
        params["cursor"] = page.json()["next_cursor"]
    assert sorted(seen) == sorted(ids)


def test_bad_inputs(service_url: str) -> None:
    not_an_image = requests.post(
        f"{service_url}/images",
        files={"image": ("notes.png", io.BytesIO(b"just some text"), "image/png")},
        data={"user_id": "user123"},
        timeout=10,
    )
    assert 400 <= not_an_image.status_code < 500
    assert_error_body(not_an_image, not_an_image.status_code)

    missing_user = requests.post(
        f"{service_url}/images",
        files={"image": ("photo.png", io.BytesIO(png()), "image/png")},
        timeout=10,
    )
    assert_error_body(missing_user, 422)

    bad_tags = upload(service_url, "user123", png(), tags="{not json")
    assert 400 <= bad_tags.status_code < 500
    assert_error_body(bad_tags, bad_tags.status_code)

    bad_patch = requests.patch(
        f"{service_url}/images/not-an-id",
        data=json.dumps({"description": "x"}),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert 400 <= bad_patch.status_code < 500
    assert_error_body(bad_patch, bad_patch.status_code)


def test_sign_in_in_gunicorn_mode(signed_in_service_url: str) -> None:
    """With sign-in on: 401 without a token, 403 for another's image, 412 on a stale If-Match."""
    base = signed_in_service_url
    owner, other = f"owner-{uuid.uuid4().hex[:6]}", f"other-{uuid.uuid4().hex[:6]}"
    files = {"image": ("photo.png", io.BytesIO(png()), "image/png")}

    anonymous = requests.get(f"{base}/images", timeout=30)
    assert_error_body(anonymous, 401)
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer ")
    created = requests.post(f"{base}/images", files=files, headers=bearer(owner), timeout=30)
    assert created.status_code == 201, created.text
    image = created.json()
    assert image["user_id"] == owner

    url = f"{base}/images/{image['image_id']}"
    assert requests.get(url, headers=bearer(other), timeout=30).status_code == 200
    assert_error_body(requests.delete(url, headers=bearer(other), timeout=30), 403)
    etag = requests.get(url, headers=bearer(owner), timeout=30).headers["ETag"]
    patched = requests.patch(
        url, json={"tags": ["b"]}, headers={**bearer(owner), "If-Match": etag}, timeout=30
    )
    assert patched.status_code == 200
    stale = requests.delete(url, headers={**bearer(owner), "If-Match": etag}, timeout=30)
    assert_error_body(stale, 412)
    assert requests.delete(url, headers=bearer(owner), timeout=30).status_code == 204
