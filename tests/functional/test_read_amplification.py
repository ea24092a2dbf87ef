"""Every listing page is one DynamoDB Query on a key: read amplification is measured, not assumed.

GIVEN a table holding 10,000 images (tests/support/amplification.py),
WHEN each filter (alone and with a date range) lists a page of 50,
THEN it is one Query that reads at most 51 entries, all returned or the one that says there is
more (ScannedCount == Count), and no BatchGetItem: the entries carry the projection. A tag
with a content type is such a filter too. Multi-tag AND reads at most the rarest tag's entries
plus one probe page of each other tag; a user's tag with a type, at most the residual budget.

The table is seeded with exactly the items ``publish()`` writes (95,000), put straight into
moto's in-process table: moto deep-copies every table on each TransactWriteItems, and even
batch writes of that many items through the client take minutes. And moto answers a Query by
sorting the whole table, seconds each at this size: here it is handed the one partition asked
for, which changes nothing it answers (same items, order, Limit, ScannedCount). The
transactional path itself is covered by the contract tests;
tests/containers/test_listing_amplification.py seeds LocalStack through the API and asserts
the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, Item

from service.adapters.dynamodb.image_repository import DynamoDBImageRepository
from service.adapters.dynamodb.sizes import KB, item_size
from service.bootstrap import dynamodb_client
from service.domain.model import Image
from service.settings import Settings
from tests.support import amplification
from tests.support.amplification import Catalogue, OneQueryPerPage, Recorder
from tests.support.aws import moto_environment

ACCOUNT = "123456789012"  # moto's default account
ITEM_LIMIT = 400 * KB  # DynamoDB's
# Seeding is the cost: under pytest-xdist (--dist loadgroup) one worker seeds and runs them all.
pytestmark = pytest.mark.xdist_group("amplification")


@pytest.fixture(scope="module")
def catalogue() -> Iterator[Catalogue]:
    settings = Settings(dynamodb_table_name="amplification", s3_bucket_name="amplification")
    with moto_environment(settings):
        client = dynamodb_client(settings)
        images = amplification.catalogue()
        backend = dynamodb_backends[ACCOUNT][settings.aws_default_region]
        load_into_moto(backend.get_table(settings.dynamodb_table_name), images)
        recorder = Recorder().attach(client)
        yield DynamoDBImageRepository(client, settings.dynamodb_table_name), images, recorder


def load_into_moto(table: Any, images: list[Image]) -> None:
    for attributes in amplification.published_items(images):
        assert item_size(attributes) <= ITEM_LIMIT
        pk, sk = DynamoType(attributes["pk"]), DynamoType(attributes["sk"])
        item = Item(pk, sk, {})
        # Item(pk, sk, attributes) measures the whole item again for each attribute it sets:
        # quadratic in the attributes, and most of the seeding's time. Measured once above.
        item.attrs.update((name, DynamoType(value)) for name, value in attributes.items())
        table.items[pk][sk] = item
    query = table.query

    def one_partition_query(hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        table.all_items = lambda: list(table.items[hash_key].values())
        return query(hash_key, *args, **kwargs)

    table.query = one_partition_query


class TestOnMoto(OneQueryPerPage):
    """On moto, in process."""


def test_amplification_report_stays_within_every_bound(catalogue: Catalogue) -> None:
    rows = amplification.report(*catalogue)
    # every filter of the assertions above, and five more listings
    assert {row.name for row in rows} > set(amplification.EXACT_FILTERS)
    assert len(rows) == len(amplification.EXACT_FILTERS) + 5
    for row in rows:
        assert 0 < row.returned == row.expected, row
        assert 0 < row.entries_read <= row.bound, row
        assert row.operations == {"Query"}, row
