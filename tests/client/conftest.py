"""Fixtures of the client's tests: the fake service and a client talking to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mpycloud import Client, MemoryResumeStore, RetryPolicy
from tests.client.fake_service import API, FakeService


@pytest.fixture
def fake() -> FakeService:
    return FakeService()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def resume() -> MemoryResumeStore:
    return MemoryResumeStore()


@pytest.fixture
def client(fake: FakeService, sleeps: list[float], resume: MemoryResumeStore) -> Iterator[Client]:
    """Files over 2,000 bytes go through upload sessions; retries sleep into ``sleeps``."""
    with Client(
        API,
        token="secret-token",
        transport=fake.transport(),
        direct_upload_limit=2_000,
        resume=resume,
        retry=RetryPolicy(attempts=4, base_delay=0.5, max_delay=4.0),
        sleep=sleeps.append,
    ) as made:
        yield made
