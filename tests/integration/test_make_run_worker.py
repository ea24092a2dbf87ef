"""``make run`` runs the worker beside the API, on its embedded emulator's queue: a multipart
upload session, completed, turns READY scrubbed of its location with nothing else running."""

from __future__ import annotations

import hashlib
import io
import time
from pathlib import Path

import pytest
import requests
from PIL import Image

from tests.integration.processes import started_run_local
from tests.support import located_images

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("integration")]
MIB = 1024 * 1024
GPS_IFD = 0x8825


def located_photo() -> bytes:
    """A JPEG with a GPS position in its EXIF, over the multipart threshold (16 MiB): noise at
    quality 100 does not compress."""
    noise = located_images.noise((3000, 3000))
    data = located_images.jpeg(noise, exif=located_images.exif_block(gps=True), quality=100)
    assert len(data) > 16 * MIB
    return data


def test_make_runs_worker_takes_a_multipart_session_to_ready_without_its_location(
    tmp_path: Path,
) -> None:
    data = located_photo()
    with started_run_local(tmp_path / "out.log", AUTH_MODE="none") as run:
        ticket = requests.post(
            f"{run.url}/uploads",
            json={
                "user_id": "alice",
                "filename": "trip.jpg",
                "content_type": "image/jpeg",
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            },
            timeout=30,
        ).json()
        assert ticket["method"] == "PUT"
        size, parts = ticket["part_size"], []
        for part in ticket["parts"]:
            n = part["part_number"]
            sent = requests.put(part["url"], data=data[(n - 1) * size : n * size], timeout=60)
            assert sent.status_code == 200, sent.text
            parts.append({"part_number": n, "etag": sent.headers["ETag"]})
        done = requests.post(
            f"{run.url}/uploads/{ticket['upload_id']}/complete", json={"parts": parts}, timeout=30
        )
        assert done.status_code == 202, done.text
        deadline = time.monotonic() + 60
        session = done.json()
        while session["status"] == "PROCESSING" and time.monotonic() < deadline:
            time.sleep(0.3)
            session = requests.get(f"{run.url}/uploads/{ticket['upload_id']}", timeout=30).json()
        assert session["status"] == "READY", session
        image = requests.get(f"{run.url}/images/{session['image_id']}", timeout=30).json()
        link = requests.get(f"{run.url}/images/{session['image_id']}/download", timeout=30).json()
        stored = requests.get(link["download_url"], timeout=60).content
    assert hashlib.sha256(stored).hexdigest() == image["sha256"]
    assert GPS_IFD not in Image.open(io.BytesIO(stored)).getexif()
    assert image["size_bytes"] == len(stored) < len(data)
