"""The DynamoDB table: its key attributes and its one index.

This is the single definition used by ``python -m service create-resources`` and checked
against ``terraform/`` by a contract test.

The item keys and their layout are spelled in ``keys.py``.
"""

from __future__ import annotations

from typing import Any

SWEEP_INDEX = "sweep"
# Epoch seconds after which DynamoDB deletes an item by itself (finished upload sessions).
TTL_ATTRIBUTE = "ttl"

KEY_ATTRIBUTES = {"pk": "S", "sk": "S", "sweep_pk": "S", "sweep_sk": "S"}


def table_definition(table_name: str) -> dict[str, Any]:
    """Keyword arguments for ``DynamoDB.Client.create_table``."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": kind} for name, kind in KEY_ATTRIBUTES.items()
        ],
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": SWEEP_INDEX,
                "KeySchema": [
                    {"AttributeName": "sweep_pk", "KeyType": "HASH"},
                    {"AttributeName": "sweep_sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    }
