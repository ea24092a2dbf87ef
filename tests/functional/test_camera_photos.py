"""With default settings, the photos phones and cameras make reach READY through an upload
session and the worker: a 48 MP HEIC, a 50 MP JPEG, a 24 MP lossy WebP and a 30 MB camera JPEG
(the API's own decode budget refuses the larger of them; the worker's takes them). On moto in
process; only the bucket, the table and sign-in are not the defaults."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient
from PIL import Image

from service.entrypoints.app import create_app
from service.settings import Settings
from tests.support.aws import moto_environment
from tests.support.camera_jpegs import camera_jpeg
from tests.support.heif_images import phone_exif
from tests.support.jobs import run_jobs

MIB = 1024 * 1024


def smooth(size: tuple[int, int]) -> Image.Image:
    """A photo-like picture that compresses as photos do, quickly made at any size."""
    gradient = Image.linear_gradient("L").resize(size)
    return Image.merge(
        "RGB", (gradient, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT), gradient)
    )


def encoded(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def heic_48_mp() -> bytes:
    # x265's fastest preset: the default takes several times as long to encode 48 MP.
    fastest = {"preset": "ultrafast"}
    return encoded(smooth((8064, 6048)), "HEIF", quality=50, exif=phone_exif(), enc_params=fastest)


def jpeg_50_mp() -> bytes:
    return encoded(smooth((8192, 6144)), "JPEG", quality=90)


def webp_24_mp() -> bytes:
    return encoded(smooth((6000, 4000)), "WEBP", quality=80)


def camera_jpeg_30_mb() -> bytes:
    """Sensor noise does not compress: 24 MP of it at quality 97 is over 30 MB."""
    noise = Image.frombytes("RGB", (6000, 4000), os.urandom(6000 * 4000 * 3))
    exif = Image.open(io.BytesIO(camera_jpeg())).getexif().tobytes()
    data = encoded(noise, "JPEG", quality=97, exif=exif)
    assert len(data) > 30_000_000
    return data


@pytest.fixture
def defaults() -> Iterator[Settings]:
    settings = Settings(
        s3_bucket_name="camera-photos",
        dynamodb_table_name="camera-photos",
        auth_mode="none",
        cursor_secret="camera-photos-cursor-secret",
    )
    with moto_environment(settings):
        yield settings


def send(client: FlaskClient, data: bytes, content_type: str) -> str:
    """An upload session for ``data``, its bytes sent, completed: its id."""
    opened = client.post(
        "/uploads",
        json={
            "user_id": "alice",
            "filename": "photo",
            "content_type": content_type,
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        },
    )
    assert opened.status_code == 201, opened.get_json()
    ticket: dict[str, Any] = opened.get_json()
    parts = []
    if ticket["method"] == "POST":
        sent = requests.post(
            ticket["url"], data=ticket["fields"], files={"file": ("photo", data)}, timeout=60
        )
        assert sent.status_code in (200, 204), sent.text
    else:
        size = ticket["part_size"]
        for part in ticket["parts"]:
            n = part["part_number"]
            put = requests.put(part["url"], data=data[(n - 1) * size : n * size], timeout=60)
            assert put.status_code == 200, put.text
            parts.append({"part_number": n, "etag": put.headers["ETag"]})
    completed = client.post(f"/uploads/{ticket['upload_id']}/complete", json={"parts": parts})
    assert completed.status_code == 202, completed.get_json()
    return str(ticket["upload_id"])


@pytest.mark.parametrize(
    ("make", "content_type", "size"),
    [
        (heic_48_mp, "image/heic", (8064, 6048)),
        (jpeg_50_mp, "image/jpeg", (8192, 6144)),
        (webp_24_mp, "image/webp", (6000, 4000)),
        (camera_jpeg_30_mb, "image/jpeg", (6000, 4000)),
    ],
    ids=["48 MP HEIC", "50 MP JPEG", "24 MP lossy WebP", "30 MB camera JPEG"],
)
def test_a_phone_or_camera_photo_reaches_ready_with_default_settings(
    defaults: Settings,
    make: Callable[[], bytes],
    content_type: str,
    size: tuple[int, int],
) -> None:
    client = create_app(defaults).test_client()
    data = make()
    upload_id = send(client, data, content_type)
    assert run_jobs(defaults) == 1
    session = client.get(f"/uploads/{upload_id}").get_json()
    assert session["status"] == "READY", session["failure"]
    image = client.get(f"/images/{session['image_id']}").get_json()
    assert (image["content_type"], (image["width"], image["height"])) == (content_type, size)
    assert image["blurhash"]
    assert [r["size"] for r in image["renditions"]] == [min(defaults.rendition_sizes)]


def test_the_apis_own_budget_refuses_what_only_the_worker_decodes(defaults: Settings) -> None:
    """POST /images decodes in the request, within the API's budget as strict as it was."""
    client = create_app(defaults).test_client()
    data = webp_24_mp()
    answer = client.post(
        "/images", data={"image": (io.BytesIO(data), "photo.webp"), "user_id": "alice"}
    )
    assert answer.status_code == 413, answer.get_json()
    assert "budget" in answer.get_json()["message"] or "limit" in answer.get_json()["message"]
