"""Fixtures shared by every test layer."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.adapters.pillow_processor import PillowImageProcessor
from service.bootstrap import build_image_service, image_limits
from service.domain.cursors import CursorCodec
from service.entrypoints.app import create_app
from service.settings import Settings
from service.usecases.images import ImageService
from service.usecases.limits import Limits
from service.usecases.processing import JobProcessor
from tests.support.aws import CURSOR_SECRET, moto_environment, small_settings
from tests.support.fakes import (
    FixedClock,
    InMemoryImageRepository,
    InMemoryImageStore,
    InMemoryJobQueue,
    InMemoryUploadSessions,
    InMemoryUploadStore,
)
from tests.support.images import START


@pytest.fixture
def settings() -> Settings:
    return small_settings()


@pytest.fixture
def aws(settings: Settings) -> Iterator[Settings]:
    """moto's in-process mock of S3 + DynamoDB, with the bucket and table created."""
    with moto_environment(settings):
        yield settings


@pytest.fixture
def aws_service(aws: Settings) -> ImageService:
    return build_image_service(aws)


@pytest.fixture
def app(aws: Settings) -> Flask:
    return create_app(aws)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def fake_store() -> InMemoryImageStore:
    return InMemoryImageStore()


@pytest.fixture
def fake_repository() -> InMemoryImageRepository:
    return InMemoryImageRepository()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def limits() -> Limits:
    return image_limits(Settings(max_file_size=512 * 1024, rendition_formats=("jpeg",)))


@pytest.fixture
def fake_jobs() -> InMemoryJobQueue:
    """The jobs queue of the fakes: what the use cases sent, for a test to run."""
    return InMemoryJobQueue()


@pytest.fixture
def fake_service(
    fake_store: InMemoryImageStore,
    fake_repository: InMemoryImageRepository,
    fake_jobs: InMemoryJobQueue,
    limits: Limits,
    clock: FixedClock,
) -> ImageService:
    """The application service on in-memory fakes, the real Pillow processor, a fixed clock."""
    return ImageService(
        store=fake_store,
        repository=fake_repository,
        processor=PillowImageProcessor(max_pixels=4_000_000, max_frames=10),
        cursors=CursorCodec(CURSOR_SECRET),
        limits=limits,
        jobs=fake_jobs,
        clock=clock,
    )


@pytest.fixture
def fake_processor(fake_service: ImageService, fake_store: InMemoryImageStore) -> JobProcessor:
    """The worker's use case beside ``fake_service``: ``fake_jobs.run_all(fake_processor)`` runs
    what the service sent (DERIVE jobs: the placeholder and the smallest rendition)."""
    return JobProcessor(
        publisher=fake_service.publisher,
        store=InMemoryUploadStore(objects=fake_store.objects),
        sessions=InMemoryUploadSessions(),
    )


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """For tests of entry points that configure the root logger: pytest's capture needs it
    back as it was."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
