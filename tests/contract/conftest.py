"""The ports' contract: every test here runs against the fakes and the real adapters."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from service.adapters.dynamodb.image_repository import DynamoDBImageRepository
from service.adapters.s3_image_store import S3ImageStore
from service.bootstrap import dynamodb_client, s3_client
from service.ports import ImageRepository, ImageStore
from service.settings import Settings
from tests.support.fakes import InMemoryImageRepository, InMemoryImageStore


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


@pytest.fixture(params=["fake", "dynamodb"])
def unanswering_repository(request: pytest.FixtureRequest) -> Iterator[ImageRepository]:
    """A repository whose table does not answer: the fake told so, DynamoDB asked for a table
    that is not there."""
    if request.param == "fake":
        yield InMemoryImageRepository(answering=False)
    else:
        settings: Settings = request.getfixturevalue("aws")
        yield DynamoDBImageRepository(dynamodb_client(settings), "no-such-table")


@pytest.fixture(params=["fake", "s3"])
def unanswering_store(request: pytest.FixtureRequest) -> Iterator[ImageStore]:
    """A store whose bucket does not answer: the fake told so, S3 asked for a bucket that is
    not there."""
    if request.param == "fake":
        yield InMemoryImageStore(answering=False)
    else:
        settings: Settings = request.getfixturevalue("aws")
        yield S3ImageStore(s3_client(settings), "no-such-bucket")
