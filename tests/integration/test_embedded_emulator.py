"""The embedded emulator of ``make run`` (``python -m devtools.emulator``) under concurrent writers.

Small counts: the 10,000-image run is ``make bench-embedded``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from service.adapters.dynamodb.table import table_definition
from tests.integration.processes import stop, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("integration")]

ROOT = Path(__file__).resolve().parents[2]
WRITERS = 16
WRITES_PER_WRITER = 25


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _child_env() -> dict[str, str]:
    """PATH, and coverage's variables so that it follows the child (pyproject: patch)."""
    keep = {k: v for k, v in os.environ.items() if k.startswith("COVERAGE_")}
    return {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), **keep}


@pytest.fixture(scope="module")
def emulator() -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.emulator", "-H", "127.0.0.1", "-p", str(port)],
        cwd=ROOT,
        env=_child_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{url}/moto-api/", process, timeout=60)
        yield url
    finally:
        stop(process)


@pytest.fixture
def table(emulator: str) -> tuple[Any, str]:
    client = boto3.client(
        "dynamodb",
        endpoint_url=emulator,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"mode": "standard", "max_attempts": 3}, max_pool_connections=32),
    )
    name = f"emulator-{uuid.uuid4().hex[:8]}"
    client.create_table(**table_definition(name))
    return client, name


def test_concurrent_transactions_scans_and_puts_all_succeed(table: tuple[Any, str]) -> None:
    """What made moto's server answer 500 ("dictionary changed size during iteration")."""
    client, name = table

    def writer(number: int) -> list[str]:
        errors = []
        for write in range(WRITES_PER_WRITER):
            image = f"image-{number}-{write}"
            try:
                client.put_item(
                    TableName=name,
                    Item={"pk": {"S": image}, "sk": {"S": "item"}, "status": {"S": "PENDING"}},
                    ConditionExpression="attribute_not_exists(pk)",
                )
                client.transact_write_items(
                    TransactItems=[
                        {
                            "Update": {
                                "TableName": name,
                                "Key": {"pk": {"S": image}, "sk": {"S": "item"}},
                                "UpdateExpression": "SET #s = :ready",
                                "ConditionExpression": "#s = :pending",
                                "ExpressionAttributeNames": {"#s": "status"},
                                "ExpressionAttributeValues": {
                                    ":ready": {"S": "READY"},
                                    ":pending": {"S": "PENDING"},
                                },
                            }
                        },
                        {
                            "Put": {
                                "TableName": name,
                                "Item": {"pk": {"S": "day"}, "sk": {"S": image}},
                            }
                        },
                        {
                            "Put": {
                                "TableName": name,
                                "Item": {"pk": {"S": f"user-{number}"}, "sk": {"S": image}},
                            }
                        },
                    ]
                )
                client.update_item(
                    TableName=name,
                    Key={"pk": {"S": "counter"}, "sk": {"S": "n"}},
                    UpdateExpression="ADD n :one",
                    ExpressionAttributeValues={":one": {"N": "1"}},
                )
                if write % 5 == 0:
                    client.scan(TableName=name, Limit=50)
            except ClientError as error:
                errors.append(str(error))
        return errors

    with ThreadPoolExecutor(WRITERS) as pool:
        errors = [e for found in pool.map(writer, range(WRITERS)) for e in found]

    assert errors == []
    day = client.query(
        TableName=name,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "day"}},
    )
    assert len(day["Items"]) == WRITERS * WRITES_PER_WRITER
    counter = client.get_item(TableName=name, Key={"pk": {"S": "counter"}, "sk": {"S": "n"}})
    assert counter["Item"]["n"] == {"N": str(WRITERS * WRITES_PER_WRITER)}


def test_a_retried_transaction_with_the_same_token_is_not_applied_twice(
    table: tuple[Any, str],
) -> None:
    """botocore retries with the token of the first attempt; the retry must not fail."""
    client, name = table
    publish = {
        "TransactItems": [
            {
                "Put": {
                    "TableName": name,
                    "Item": {"pk": {"S": "image-1"}, "sk": {"S": "item"}},
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        ],
        "ClientRequestToken": uuid.uuid4().hex,
    }
    client.transact_write_items(**publish)

    client.transact_write_items(**publish)  # the retry: answered from the first success

    with pytest.raises(ClientError) as again:  # a new request runs, and its condition fails
        client.transact_write_items(**{**publish, "ClientRequestToken": uuid.uuid4().hex})
    assert again.value.response["Error"]["Code"] == "TransactionCanceledException"
    other = [{"Put": {"TableName": name, "Item": {"pk": {"S": "image-2"}, "sk": {"S": "item"}}}}]
    with pytest.raises(ClientError) as mismatch:  # the same token for another request
        client.transact_write_items(
            TransactItems=other, ClientRequestToken=publish["ClientRequestToken"]
        )
    assert mismatch.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
