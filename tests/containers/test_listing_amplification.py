"""The read-amplification assertions of tests/functional/test_read_amplification.py, on the
session's AWS emulator (LocalStack when its image is present; ``AWS_EMULATOR=localstack``
insists): 10,000 images seeded through the API with batch writes of exactly the items
``publish()`` writes, then every filter lists a page while the calls are counted.

Seeding 95,000 items into LocalStack's DynamoDB takes minutes (18 on a busy 2-core machine),
so it runs only with ``AMPLIFICATION_ON_EMULATOR=1``."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from service.adapters.dynamodb.image_repository import DynamoDBImageRepository
from service.adapters.dynamodb.table import table_definition
from tests.containers.harness import REGION, Emulator
from tests.support import amplification
from tests.support.amplification import Catalogue, OneQueryPerPage, Recorder

pytestmark = [pytest.mark.containers, pytest.mark.xdist_group("containers")]


@pytest.fixture(scope="module")
def catalogue(request: pytest.FixtureRequest) -> Iterator[Catalogue]:
    if os.environ.get("AMPLIFICATION_ON_EMULATOR") != "1":
        pytest.skip("10,000 images on the emulator: set AMPLIFICATION_ON_EMULATOR=1")
    aws_emulator: Emulator = request.getfixturevalue("aws_emulator")
    client: Any = boto3.client(
        "dynamodb",
        endpoint_url=aws_emulator.host_url,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    table = f"amplification-{uuid.uuid4().hex[:8]}"
    client.create_table(**table_definition(table))
    client.get_waiter("table_exists").wait(TableName=table)
    images = amplification.catalogue()
    amplification.seed_with_batch_writes(client, table, images)
    yield DynamoDBImageRepository(client, table), images, Recorder().attach(client)
    client.delete_table(TableName=table)
    client.close()


class TestOnTheEmulator(OneQueryPerPage):
    """On the session's emulator (LocalStack when its image is present)."""
