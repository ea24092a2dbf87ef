"""A HEIC photo with a position in its EXIF, as phones take them, through an upload session on
the emulator: the worker makes it READY and its stored original holds no position (exiftool
the judge). Made here with pillow-heif, the plugin the image decodes HEIC with."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest

from service.domain.model import ACCEPTED_CONTENT_TYPES
from tests.containers.sessions import download, images_of, new_user, upload, wait_ready
from tests.support.exiftool import locations
from tests.support.located_images import exif_block, pixels

pytestmark = [pytest.mark.containers, pytest.mark.xdist_group("containers")]


def located_heic() -> bytes:
    pillow_heif: Any = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    buffer = io.BytesIO()
    pixels((64, 48)).save(buffer, format="HEIF", quality=90, exif=exif_block())
    return buffer.getvalue()


def test_a_heic_with_a_location_is_made_ready_without_it(service_url: str) -> None:
    if "image/heic" not in ACCEPTED_CONTENT_TYPES:
        pytest.skip("pending: the service does not accept image/heic yet")
    data = located_heic()
    assert locations(data)  # exiftool reads the position in what is sent
    user = new_user("heic")

    session = upload(
        service_url, data, user_id=user, content_type="image/heic", filename="IMG_0001.HEIC"
    )
    ready = wait_ready(service_url, session["upload_id"])

    [image] = images_of(service_url, user)
    assert (image["image_id"], image["content_type"]) == (ready["image_id"], "image/heic")
    original = download(service_url, image["image_id"])
    assert locations(original) == []
    assert image["sha256"] == hashlib.sha256(original).hexdigest()
    assert (image["width"], image["height"]) == (64, 48)
