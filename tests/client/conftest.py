"""Fixtures of the client's tests: the fake service and a client talking to it."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

import mpycloud.cli.common
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


@pytest.fixture
def cli(fake: FakeService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeService:
    """The command's clients talk to the fake; its config and state live under tmp_path."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("MPYCLOUD_CONFIG", raising=False)
    monkeypatch.delenv("MPYCLOUD_TOKEN", raising=False)
    monkeypatch.delenv("MPYCLOUD_URL", raising=False)
    faked = functools.partial(Client, transport=fake.transport(), direct_upload_limit=2_000)
    monkeypatch.setattr(mpycloud.cli.common, "Client", faked)
    return fake
