"""GET /images/{id}/similar through the Flask test client, on moto in process: after the
worker's jobs, a resized, re-encoded copy of a photo is found, an unrelated photo is not, and
neither is someone else's copy or a deleted one."""

from __future__ import annotations

import io
import random
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from PIL import Image, ImageDraw, ImageFilter

from service.entrypoints.app import create_app
from service.settings import Settings
from tests.support.aws import moto_environment, small_settings
from tests.support.jobs import run_jobs


def photo(seed: int, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """Shapes over a gradient, softened as a lens does: photo-like, and different per seed."""
    chosen = random.Random(seed)
    picture = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(picture)
    for _ in range(12):
        x, y = chosen.randrange(size[0]), chosen.randrange(size[1])
        w, h = chosen.randrange(40, 240), chosen.randrange(40, 240)
        colour = tuple(chosen.randrange(256) for _ in range(3))
        shape = draw.ellipse if chosen.random() < 0.5 else draw.rectangle
        shape((x, y, x + w, y + h), fill=colour)
    return picture.filter(ImageFilter.GaussianBlur(2))


def encoded(picture: Image.Image, fmt: str = "JPEG", **options: Any) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, fmt, **options)
    return buffer.getvalue()


@pytest.fixture
def settings() -> Iterator[Settings]:
    settings = small_settings(max_file_size=4 * 1024 * 1024)
    with moto_environment(settings):
        yield settings


def upload(client: FlaskClient, data: bytes, user: str = "alice") -> str:
    name = f"photo.{(Image.open(io.BytesIO(data)).format or 'JPEG').lower()}"
    answer = client.post("/images", data={"image": (io.BytesIO(data), name), "user_id": user})
    assert answer.status_code == 201, answer.get_json()
    return str(answer.get_json()["image_id"])


def similar(client: FlaskClient, image_id: str) -> list[tuple[str, int]]:
    answer = client.get(f"/images/{image_id}/similar")
    assert answer.status_code == 200, answer.get_json()
    return [(item["image"]["image_id"], item["distance"]) for item in answer.get_json()["items"]]


def test_a_resized_re_encoded_copy_is_similar_and_an_unrelated_photo_is_not(
    settings: Settings,
) -> None:
    client = create_app(settings).test_client()
    original = upload(client, encoded(photo(1), quality=92))
    copy = upload(client, encoded(photo(1).resize((320, 240)), "WEBP", quality=60))
    unrelated = upload(client, encoded(photo(2), quality=92))
    theirs = upload(client, encoded(photo(1), quality=80), user="bob")
    assert run_jobs(settings) == 4

    found = similar(client, original)

    assert [image_id for image_id, _ in found] == [copy]
    assert found[0][1] <= 3
    assert original not in {i for i, _ in similar(client, unrelated)}
    assert theirs not in {i for i, _ in found}
    # the copy finds the original back; once deleted, it is found no more
    assert [image_id for image_id, _ in similar(client, copy)] == [original]
    assert client.delete(f"/images/{original}").status_code == 204
    assert similar(client, copy) == []


def test_an_image_without_its_hash_yet_has_no_similar_images(settings: Settings) -> None:
    client = create_app(settings).test_client()
    first = upload(client, encoded(photo(3)))
    upload(client, encoded(photo(3), quality=70))
    # no job run: neither has its hash
    assert similar(client, first) == []
    assert client.get("/images/01J0000000000000000000000X/similar").status_code == 404
