"""The corrections of the embedded emulator (``devtools.emulator``), on moto's own backend."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from moto.dynamodb.exceptions import (
    DynamodbException,
    MultipleTransactionsException,
    TransactionCanceledException,
)
from moto.dynamodb.models import DynamoDBBackend

from devtools.emulator import IdempotencyTokens, Serialised, transact_write_items
from tests.support.aws import create_moto_table

TABLE = "t"


@pytest.fixture
def backend() -> Any:
    backend = DynamoDBBackend("us-east-1", "123456789012")
    create_moto_table(backend, TABLE)
    for pk, status in (("a", "READY"), ("b", "READY"), ("c", "READY")):
        backend.put_item(TABLE, {"pk": {"S": pk}, "sk": {"S": "item"}, "s": {"S": status}})
    return backend


def key(pk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": "item"}}


def snapshot(backend: Any) -> dict[str, Any]:
    return {item.hash_key.value: item.to_json() for item in backend.tables[TABLE].all_items()}


def set_status(pk: str, expected: str, new: str) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": TABLE,
            "Key": key(pk),
            "UpdateExpression": "SET s = :new",
            "ConditionExpression": "s = :expected",
            "ExpressionAttributeValues": {":new": {"S": new}, ":expected": {"S": expected}},
        }
    }


def put(pk: str) -> dict[str, Any]:
    return {"Put": {"TableName": TABLE, "Item": {**key(pk), "s": {"S": "NEW"}}}}


def delete(pk: str) -> dict[str, Any]:
    return {"Delete": {"TableName": TABLE, "Key": key(pk)}}


def test_a_transaction_applies_every_item(backend: Any) -> None:
    transact_write_items(backend, [set_status("a", "READY", "DELETING"), put("d"), delete("b")])

    after = snapshot(backend)
    assert after["a"]["Attributes"]["s"] == {"S": "DELETING"}
    assert after["d"]["Attributes"]["s"] == {"S": "NEW"}
    assert "b" not in after


def test_a_cancelled_transaction_restores_exactly_the_items_it_touched(backend: Any) -> None:
    table = backend.tables[TABLE]
    before = snapshot(backend)
    untouched = table.get_item(*backend.get_keys_value(table, key("c")))

    # GIVEN a transaction whose last condition fails, after an update, a put and a delete
    with pytest.raises(TransactionCanceledException) as cancelled:
        transact_write_items(
            backend,
            [
                set_status("a", "READY", "DELETING"),
                put("d"),
                delete("b"),
                set_status("c", "PENDING", "READY"),
            ],
        )

    # THEN the items are as they were, and the reason names the failed condition
    assert snapshot(backend) == before
    assert "None, None, None, ConditionalCheckFailed" in cancelled.value.message
    # AND nothing else was copied or replaced: same table, same untouched item objects
    assert backend.tables[TABLE] is table
    assert table.get_item(*backend.get_keys_value(table, key("c"))) is untouched


def test_a_validation_error_after_applied_items_rolls_them_back(backend: Any) -> None:
    before = snapshot(backend)

    # Two operations on one item: moto finds out at the second, after applying the first.
    with pytest.raises(MultipleTransactionsException):
        transact_write_items(backend, [set_status("a", "READY", "DELETING"), delete("a")])

    assert snapshot(backend) == before


def test_an_update_that_creates_an_item_is_undone_by_removing_it(backend: Any) -> None:
    counter = {
        "Update": {
            "TableName": TABLE,
            "Key": key("n"),
            "UpdateExpression": "ADD n :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
    }
    before = snapshot(backend)

    with pytest.raises(TransactionCanceledException):
        transact_write_items(backend, [counter, set_status("a", "GONE", "READY")])

    assert snapshot(backend) == before


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_token_seen_before_answers_the_first_result_without_applying_again() -> None:
    tokens = IdempotencyTokens(ttl_seconds=600, clock=Clock())
    applied: list[int] = []

    def apply() -> str:
        applied.append(1)
        return f"result {len(applied)}"

    first = tokens.run("token-1", {"items": [1]}, apply)
    retried = tokens.run("token-1", {"items": [1]}, apply)

    assert first == retried == "result 1"
    assert applied == [1]


def test_a_token_reused_for_another_request_is_refused() -> None:
    tokens = IdempotencyTokens(ttl_seconds=600, clock=Clock())
    tokens.run("token-1", {"items": [1]}, lambda: "done")

    with pytest.raises(DynamodbException) as refused:
        tokens.run("token-1", {"items": [2]}, lambda: "done again")

    assert refused.value.error_type.endswith("#IdempotentParameterMismatchException")


def test_a_token_is_forgotten_after_ten_minutes() -> None:
    clock = Clock()
    tokens = IdempotencyTokens(ttl_seconds=600, clock=clock)
    tokens.run("token-1", {"items": [1]}, lambda: "first")

    clock.now += 599
    assert tokens.run("token-1", {"items": [1]}, lambda: "second") == "first"
    clock.now += 2
    assert tokens.run("token-1", {"items": [1]}, lambda: "second") == "second"
    assert len(tokens) == 1


def test_a_failed_request_is_not_remembered() -> None:
    tokens = IdempotencyTokens(ttl_seconds=600, clock=Clock())

    def cancelled() -> str:
        raise TransactionCanceledException([("ConditionalCheckFailed", "no", None)])

    with pytest.raises(TransactionCanceledException):
        tokens.run("token-1", {"items": [1]}, cancelled)

    assert tokens.run("token-1", {"items": [1]}, lambda: "applied") == "applied"


def test_serialised_requests_never_overlap_and_keep_their_bodies() -> None:
    running, overlaps, closed = [0], [0], [0]
    guard = threading.Lock()

    class Body(list[bytes]):
        def close(self) -> None:
            closed[0] += 1

    def app(environ: dict[str, Any], start_response: Any) -> Body:
        with guard:
            running[0] += 1
            overlaps[0] += running[0] > 1
        time.sleep(0.001)
        start_response("200 OK", [])
        with guard:
            running[0] -= 1
        return Body([b"part ", environ["PATH_INFO"].encode()])

    serialised = Serialised(app)
    bodies: list[bytes] = []

    def client(n: int) -> None:
        for i in range(10):
            bodies.extend(serialised({"PATH_INFO": f"/{n}/{i}"}, lambda *args: None))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert overlaps[0] == 0
    assert closed[0] == 80
    assert sorted(bodies) == sorted(f"part /{n}/{i}".encode() for n in range(8) for i in range(10))
