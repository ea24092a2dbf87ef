"""The ports' contract: every test here runs against the fakes and the real adapters."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from service.adapters.dynamodb_repository import DynamoDBImageRepository
from service.adapters.s3_store import S3ImageStore
from service.bootstrap import dynamodb_client, s3_client
from service.model import Image, ImageStatus, new_image_id
from service.ports import ImageRepository, ImageStore
from service.settings import Settings
from tests.fakes import InMemoryImageRepository, InMemoryImageStore

START = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["fake", "dynamodb"])
def repository(request: pytest.FixtureRequest) -> Iterator[ImageRepository]:
    if request.param == "fake":
        yield InMemoryImageRepository()
    else:
        settings: Settings = request.getfixturevalue("aws")
        yield DynamoDBImageRepository(dynamodb_client(settings), settings.dynamodb_table_name)


@pytest.fixture(params=["fake", "s3"])
def store(request: pytest.FixtureRequest) -> Iterator[ImageStore]:
    if request.param == "fake":
        yield InMemoryImageStore()
    else:
        settings: Settings = request.getfixturevalue("aws")
        yield S3ImageStore(s3_client(settings), settings.s3_bucket_name)


def make_image(
    minutes: int = 0,
    *,
    user: str = "alice",
    tags: tuple[str, ...] = (),
    content_type: str = "image/jpeg",
    status: ImageStatus = ImageStatus.PENDING,
) -> Image:
    created = START + timedelta(minutes=minutes)
    return Image(
        image_id=new_image_id(created),
        user_id=user,
        content_type=content_type,
        size_bytes=10,
        width=2,
        height=3,
        sha256="0" * 64,
        original_filename="photo.jpg",
        created_at=created,
        updated_at=created,
        description="d",
        tags=tags,
        metadata={"camera": "x", "iso": 200, "ratio": 1.5, "flag": True, "none": None},
        status=status,
    )


def add_ready(repository: ImageRepository, image: Image) -> Image:
    repository.add_pending(image)
    return repository.publish(image)
