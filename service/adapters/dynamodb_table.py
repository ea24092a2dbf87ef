"""The DynamoDB table: its keys, its one index, and how item keys are spelled.

This is the single definition used by ``python -m service create-resources`` and checked
against ``terraform/`` by a contract test.

Item layout (single table, generic ``pk``/``sk`` keys):

=========================  =======================  ==========================================
pk                         sk                       what
=========================  =======================  ==========================================
``IMG#<id>``               ``META``                 the image's metadata and status
``U#<user>``               ``<id>``                 listing entry: a user's images
``C#<content type>``       ``<id>``                 listing entry: a content type
``T#<tag>``                ``<id>``                 listing entry: a tag
``UT#<user>#<tag>``        ``<id>``                 listing entry: a user's images with a tag
``UC#<user>#<type>``       ``<id>``                 listing entry: a user's images of a type
``A#<yyyy-mm-dd>``         ``<id>``                 listing entry: all images, by day bucket
``DAYS``                   ``<yyyy-mm-dd>``         the day buckets that hold images
``N#T#<tag>``              ``COUNT``                approximate image count of a tag
=========================  =======================  ==========================================

Image ids are ULIDs, so sorting by ``sk`` is sorting by creation time and a date range is a
``BETWEEN`` on ``sk``. Listing entries exist only while the image is READY (written in the
same transaction that flips the status), so listings never see a half-made image.

The sparse ``sweep`` index holds only images that are not READY (PENDING uploads, DELETING
deletes), sharded over a few partitions so a burst of uploads does not make a hot key.
"""

from __future__ import annotations

from typing import Any

SWEEP_INDEX = "sweep"
SWEEP_SHARDS = 4

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
