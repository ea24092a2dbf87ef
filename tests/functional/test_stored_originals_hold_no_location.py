"""STRIP_GPS (on by default): whatever path an upload takes, the original stored holds no
position that exiftool can find (tests/support/exiftool.py), and its pixels are the ones sent.

Each fixture (tests/support/located_images.py) hides a position somewhere a reader finds it;
exiftool is shown to find it there first. The uploads go through the Flask test client on
moto's in-process S3 + DynamoDB + SQS; the bytes of upload sessions are sent with ``requests``,
which moto intercepts, and the worker's jobs are run from the queue. Ids start with the letter
of the case in the issue they cover.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
import requests
from flask.testing import FlaskClient
from PIL import Image

from service.entrypoints.app import create_app
from service.settings import Settings
from tests.support import located_images as located
from tests.support.aws import moto_environment, small_settings
from tests.support.exiftool import exiftool, locations, written
from tests.support.forms import upload_form
from tests.support.images import animated, png_chunk
from tests.support.jobs import run_jobs

MIB = 1024 * 1024

EXIFTOOL_GPS = ("XMP-exif:GPSLatitude=48.8582", "XMP-exif:GPSLongitude=2.2944")
LOCATED: dict[str, Callable[[], bytes]] = {
    "jpeg-exif-gps": lambda: located.jpeg(exif=located.exif_block()),
    "png-exif-gps": lambda: located.png(None, png_chunk(b"eXIf", located.tiff_block())),
    "webp-exif-gps": lambda: located.webp(exif=located.exif_block()),
    "a-png-exif-profile-ztxt": located.png_with_exif_profile,
    "a-png-exif-profile-text-without-header": lambda: located.png_with_exif_profile(
        b"tEXt", header=False
    ),
    "a-png-exif-profile-after-the-image-data": lambda: located.png_with_exif_profile(
        before_data=False
    ),
    "b-jpeg-xmp-only": located.jpeg_with_xmp_gps,
    "b-jpeg-extended-xmp": located.jpeg_with_extended_xmp,
    "c-jpeg-xmp-exif-namespace-under-other-prefixes": lambda: located.jpeg_with_xmp_gps(
        located.RENAMED_GPS
    ),
    "d-png-itxt-xmp": located.png_with_xmp,
    "d-webp-xmp-chunk": located.webp_with_xmp,
    "e-jpeg-second-exif-segment": located.jpeg_with_two_exif_segments,
    "f-jpeg-motion-photo-trailer": located.jpeg_with_motion_photo_trailer,
    "d-png-xmp-written-by-exiftool": lambda: written(located.png(), *EXIFTOOL_GPS),
    "d-webp-xmp-written-by-exiftool": lambda: written(located.webp(), *EXIFTOOL_GPS),
    "gif-xmp-extension": located.gif_with_xmp,
    "gif-xmp-written-by-exiftool": lambda: written(animated(), *EXIFTOOL_GPS),
}
LARGE: dict[str, Callable[[], bytes]] = {
    "g-jpeg-exif-xmp-and-trailer": located.large_jpeg,
    "g-png-xmp-and-exif-profile-after-the-image-data": located.large_png,
    # No WebP: Pillow reads no WebP header from a file's first bytes alone, so a WebP above
    # the threshold is refused before its bytes are read (the header check of multipart).
}
CONTENT_TYPES = {
    b"\xff\xd8": "image/jpeg",
    b"\x89P": "image/png",
    b"RI": "image/webp",
    b"GI": "image/gif",
}


@pytest.fixture(autouse=True)
def _exiftool() -> None:
    """Skipped (or failed, with REQUIRE_EXIFTOOL=1) before anything is uploaded."""
    exiftool()


@pytest.fixture(scope="module")
def located_settings() -> Iterator[Settings]:
    settings = small_settings(max_file_size=64 * MIB, multipart_threshold=5 * MIB)
    with moto_environment(settings):
        yield settings


@pytest.fixture(scope="module")
def client(located_settings: Settings) -> FlaskClient:
    return create_app(located_settings).test_client()


def content_type(data: bytes) -> str:
    return CONTENT_TYPES[data[:2]]


def downloaded(client: FlaskClient, image: dict[str, Any]) -> bytes:
    link = client.get(f"/images/{image['image_id']}/download").get_json()["download_url"]
    stored = requests.get(link, timeout=30).content
    assert (len(stored), hashlib.sha256(stored).hexdigest()) == (
        image["size_bytes"],
        image["sha256"],
    )
    return stored


def assert_same_pixels(stored: bytes, sent: bytes) -> None:
    """Every frame."""
    with Image.open(io.BytesIO(stored)) as after, Image.open(io.BytesIO(sent)) as before:
        assert (after.format, after.size) == (before.format, before.size)
        frames = getattr(before, "n_frames", 1)
        assert getattr(after, "n_frames", 1) == frames
        for frame in range(frames):
            after.seek(frame)
            before.seek(frame)
            assert after.tobytes() == before.tobytes()


def posted(client: FlaskClient, data: bytes) -> dict[str, Any]:
    form = upload_form(data, filename="located", file_content_type=content_type(data))
    response = client.post("/images", data=form, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    image: dict[str, Any] = response.get_json()
    return image


def session_upload(client: FlaskClient, settings: Settings, data: bytes) -> dict[str, Any]:
    """Through an upload session: a single POST up to the threshold, parts above it; the
    worker's jobs run, and the image is as GET /images/{id} shows it."""
    body = {"filename": "located", "content_type": content_type(data), "size": len(data)}
    ticket = client.post("/uploads", json=body | {"user_id": "alice"}).get_json()
    parts: list[dict[str, Any]] = []
    if ticket["method"] == "POST":
        files = {"file": ("located", data)}
        sent = requests.post(ticket["url"], data=ticket["fields"], files=files, timeout=30)
        assert sent.status_code in (200, 204), sent.text
    else:
        size = ticket["part_size"]
        for part in ticket["parts"]:
            number = part["part_number"]
            chunk = data[(number - 1) * size : number * size]
            sent = requests.put(part["url"], data=chunk, timeout=30)
            assert sent.status_code == 200, sent.text
            parts.append({"part_number": number, "etag": sent.headers["ETag"]})
    done = client.post(f"/uploads/{ticket['upload_id']}/complete", json={"parts": parts})
    assert done.status_code == 202, done.get_json()
    run_jobs(settings)
    session = client.get(f"/uploads/{ticket['upload_id']}").get_json()
    assert session["status"] == "READY", session
    image: dict[str, Any] = client.get(f"/images/{session['image_id']}").get_json()
    return image


@pytest.mark.parametrize("name", LOCATED)
def test_exiftool_finds_the_location_of_every_fixture(name: str) -> None:
    assert locations(LOCATED[name]())


@pytest.mark.parametrize("name", LOCATED)
def test_an_image_posted_is_stored_without_its_location(client: FlaskClient, name: str) -> None:
    sent = LOCATED[name]()

    stored = downloaded(client, posted(client, sent))

    assert locations(stored) == []
    assert_same_pixels(stored, sent)


@pytest.mark.parametrize("name", LOCATED)
def test_a_posted_upload_session_is_stored_without_its_location(
    client: FlaskClient, located_settings: Settings, name: str
) -> None:
    sent = LOCATED[name]()

    stored = downloaded(client, session_upload(client, located_settings, sent))

    assert locations(stored) == []
    assert_same_pixels(stored, sent)


@pytest.mark.parametrize("name", LARGE)
def test_a_multipart_upload_is_stored_without_its_location(
    client: FlaskClient, located_settings: Settings, name: str
) -> None:
    sent = LARGE[name]()
    assert len(sent) > 5 * MIB  # sent in parts
    assert locations(sent)

    stored = downloaded(client, session_upload(client, located_settings, sent))

    assert locations(stored) == []
    assert_same_pixels(stored, sent)
    assert [key for key in stored_keys() if key.startswith("incoming/")] == []


def stored_keys() -> list[str]:
    s3 = boto3.client("s3", region_name="us-east-1")
    listed = s3.list_objects_v2(Bucket="test-images-bucket")
    return sorted(item["Key"] for item in listed.get("Contents", []))


def test_a_location_that_cannot_be_removed_is_refused_and_nothing_is_stored(
    client: FlaskClient, located_settings: Settings
) -> None:
    # XMP that is not well-formed (its prefixes are bound to nothing) cannot be edited.
    broken = b"<x:xmpmeta><exif:GPSLatitude>48,51.4917N</exif:GPSLatitude></x:xmpmeta>"
    sent = located.after_segments(
        located.jpeg(), 1, located.segment(0xE1, located.XMP_HEADER + broken)
    )
    assert locations(sent)
    run_jobs(located_settings)  # the placeholders of the images posted before
    before = stored_keys()

    posted_answer = client.post(
        "/images", data=upload_form(sent, filename="x.jpg"), content_type="multipart/form-data"
    )
    body = {"filename": "x.jpg", "content_type": "image/jpeg", "size": len(sent)}
    ticket = client.post("/uploads", json=body | {"user_id": "alice"}).get_json()
    files = {"file": ("x.jpg", sent)}
    requests.post(ticket["url"], data=ticket["fields"], files=files, timeout=30)
    completed = client.post(f"/uploads/{ticket['upload_id']}/complete", json={})
    assert completed.status_code == 202, completed.get_json()
    run_jobs(located_settings)

    assert posted_answer.status_code == 422, posted_answer.get_json()
    assert "not well-formed XML" in posted_answer.get_json()["message"]
    session = client.get(f"/uploads/{ticket['upload_id']}").get_json()
    assert session["status"] == "FAILED", session
    assert "not well-formed XML" in session["failure"]
    assert stored_keys() == before
