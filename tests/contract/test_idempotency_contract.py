"""IdempotencyStore: the fake and the DynamoDB adapter behave the same."""

from __future__ import annotations

import time

import pytest

from service.adapters.dynamodb.idempotency_store import DynamoDBIdempotencyStore
from service.bootstrap import dynamodb_client
from service.domain.errors import IdempotencyKeyReused, ImageConflict, RequestInProgress
from service.domain.idempotency_keys import IN_PROGRESS_SECONDS, RETENTION_SECONDS, StoredResponse
from service.ports import IdempotencyStore
from service.settings import Settings
from tests.support.fakes import InMemoryIdempotencyStore

ANSWER = StoredResponse(201, '{"image_id": "x"}', {"Location": "/images/x"})


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def epoch() -> Clock:
    return Clock()


@pytest.fixture(params=["fake", "dynamodb"])
def records(request: pytest.FixtureRequest, epoch: Clock) -> IdempotencyStore:
    if request.param == "fake":
        return InMemoryIdempotencyStore(clock=epoch)
    settings: Settings = request.getfixturevalue("aws")
    return DynamoDBIdempotencyStore(dynamodb_client(settings), settings.dynamodb_table_name, epoch)


def test_the_first_request_runs_and_its_replay_gets_its_answer(records: IdempotencyStore) -> None:
    assert records.begin("alice", "k", "h1") is None
    records.complete("alice", "k", "h1", ANSWER)
    assert records.begin("alice", "k", "h1") == ANSWER


def test_another_request_with_the_key_is_refused(records: IdempotencyStore) -> None:
    assert records.begin("alice", "k", "h1") is None
    records.complete("alice", "k", "h1", ANSWER)
    with pytest.raises(IdempotencyKeyReused):
        records.begin("alice", "k", "h2")


def test_while_the_first_runs_the_key_is_busy(records: IdempotencyStore) -> None:
    assert records.begin("alice", "k", "h1") is None
    for request_hash in ("h1", "h2"):
        with pytest.raises(RequestInProgress):
            records.begin("alice", "k", request_hash)


def test_users_and_keys_are_independent(records: IdempotencyStore) -> None:
    assert records.begin("alice", "k", "h1") is None
    assert records.begin("bob", "k", "h1") is None
    assert records.begin("alice", "k2", "h1") is None


def test_a_released_key_runs_again_but_a_kept_answer_stays(records: IdempotencyStore) -> None:
    assert records.begin("alice", "k", "h1") is None
    records.release("alice", "k")
    assert records.begin("alice", "k", "h2") is None
    records.complete("alice", "k", "h2", ANSWER)
    records.release("alice", "k")
    assert records.begin("alice", "k", "h2") == ANSWER


def test_a_record_is_kept_a_day(records: IdempotencyStore, epoch: Clock) -> None:
    assert records.begin("alice", "k", "h1") is None
    records.complete("alice", "k", "h1", ANSWER)
    epoch.now += RETENTION_SECONDS - 1
    assert records.begin("alice", "k", "h1") == ANSWER
    epoch.now += 2
    assert records.begin("alice", "k", "h2") is None


def test_a_request_that_never_finished_gives_up_its_key(
    records: IdempotencyStore, epoch: Clock
) -> None:
    assert records.begin("alice", "k", "h1") is None
    epoch.now += IN_PROGRESS_SECONDS + 1
    assert records.begin("alice", "k", "h2") is None
    # AND the request that lost it cannot record an answer over the new one
    with pytest.raises(ImageConflict):
        records.complete("alice", "k", "h1", ANSWER)
