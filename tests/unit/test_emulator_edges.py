"""The embedded emulator's transactions (``devtools.emulator``) at DynamoDB's edges: requests it
must refuse whole, condition checks, the old item returned on a failed condition, and tables
with a hash key only."""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.dynamodb.exceptions import (
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend

from devtools.emulator import transact_write_items
from tests.support.aws import create_moto_table

TABLE = "t"
HASH_ONLY = "h"


@pytest.fixture
def backend() -> Any:
    backend = DynamoDBBackend("us-east-1", "123456789012")
    create_moto_table(backend, TABLE)
    create_moto_table(backend, HASH_ONLY, range_key=False)
    for pk in ("a", "b"):
        backend.put_item(TABLE, {"pk": {"S": pk}, "sk": {"S": "item"}, "s": {"S": "READY"}})
        backend.put_item(HASH_ONLY, {"pk": {"S": pk}, "s": {"S": "READY"}})
    return backend


def key(pk: str, table: str = TABLE) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": "item"}} if table == TABLE else {"pk": {"S": pk}}


def snapshot(backend: Any) -> dict[tuple[str, Any], Any]:
    return {
        (table, item.hash_key.value): item.to_json()
        for table in (TABLE, HASH_ONLY)
        for item in backend.tables[table].all_items()
    }


def set_status(pk: str, expected: str, new: str, table: str = TABLE) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": table,
            "Key": key(pk, table),
            "UpdateExpression": "SET s = :new",
            "ConditionExpression": "s = :expected",
            "ExpressionAttributeValues": {":new": {"S": new}, ":expected": {"S": expected}},
        }
    }


def put(pk: str, table: str = TABLE) -> dict[str, Any]:
    return {"Put": {"TableName": table, "Item": {**key(pk, table), "s": {"S": "NEW"}}}}


def check(pk: str, expected: str, **options: Any) -> dict[str, Any]:
    return {
        "ConditionCheck": {
            "TableName": TABLE,
            "Key": key(pk),
            "ConditionExpression": "s = :expected",
            "ExpressionAttributeValues": {":expected": {"S": expected}},
            **options,
        }
    }


def reasons(error: TransactionCanceledException) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads(error.description)["CancellationReasons"]
    return found


def test_more_than_a_hundred_items_are_refused_before_any_is_applied(backend: Any) -> None:
    before = snapshot(backend)

    with pytest.raises(TooManyTransactionsException):
        transact_write_items(backend, [put(f"n{i}") for i in range(101)])

    assert snapshot(backend) == before


def test_an_item_naming_two_operations_is_refused_and_undoes_the_ones_before(
    backend: Any,
) -> None:
    before = snapshot(backend)
    both = {**put("c"), **set_status("a", "READY", "GONE")}

    with pytest.raises(TransactWriteSingleOpException):
        transact_write_items(backend, [set_status("b", "READY", "DELETING"), both])

    assert snapshot(backend) == before


def test_an_operation_dynamodb_does_not_have_cancels_the_transaction(backend: Any) -> None:
    before = snapshot(backend)
    get = {"Get": {"TableName": TABLE, "Key": key("a")}}

    with pytest.raises(TransactionCanceledException) as cancelled:
        transact_write_items(backend, [put("c"), get])

    assert [reason["Code"] for reason in reasons(cancelled.value)] == ["None", "ValueError"]
    assert snapshot(backend) == before


def test_a_condition_check_that_holds_lets_the_others_apply_and_changes_nothing(
    backend: Any,
) -> None:
    transact_write_items(backend, [check("a", "READY"), set_status("b", "READY", "DELETING")])

    after = snapshot(backend)
    assert after[(TABLE, "a")]["Attributes"]["s"] == {"S": "READY"}
    assert after[(TABLE, "b")]["Attributes"]["s"] == {"S": "DELETING"}


def test_a_failed_check_asking_for_all_old_returns_the_item_as_it_is(backend: Any) -> None:
    before = snapshot(backend)

    with pytest.raises(TransactionCanceledException) as cancelled:
        transact_write_items(
            backend,
            [
                set_status("b", "READY", "DELETING"),
                check("a", "PENDING", ReturnValuesOnConditionCheckFailure="ALL_OLD"),
            ],
        )

    first, second = reasons(cancelled.value)
    assert first == {"Code": "None"}
    assert second["Code"] == "ConditionalCheckFailed"
    assert second["Item"] == before[(TABLE, "a")]["Attributes"]
    assert snapshot(backend) == before


def test_a_table_with_a_hash_key_only_is_restored_too(backend: Any) -> None:
    before = snapshot(backend)

    with pytest.raises(TransactionCanceledException):
        transact_write_items(
            backend,
            [
                set_status("a", "READY", "DELETING", table=HASH_ONLY),
                put("c", table=HASH_ONLY),
                set_status("b", "PENDING", "READY", table=HASH_ONLY),
            ],
        )

    assert snapshot(backend) == before
