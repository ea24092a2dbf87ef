"""Listing entries stay small enough for DynamoDB's transactions, whatever an image holds."""

from __future__ import annotations

import pytest
from msgspec.structs import replace

from service.adapters.dynamodb import items
from service.adapters.dynamodb.sizes import KB, item_size
from service.domain import rules
from service.domain.model import Image, ImageStatus
from tests.support.images import make_image

TRANSACTION_LIMIT = 4 * KB * KB  # DynamoDB's, over every item of one TransactWriteItems


def at_every_limit(letter: str) -> Image:
    """Every text as long as rules allow, written with ``letter``."""
    metadata = {
        f"{n:02d}" + "k" * (rules.MAX_METADATA_KEY_LENGTH - 2): letter
        * rules.MAX_METADATA_VALUE_LENGTH
        for n in range(rules.MAX_METADATA_KEYS)
    }
    return replace(
        make_image(status=ImageStatus.READY),
        description=letter * rules.MAX_DESCRIPTION_LENGTH,
        original_filename=letter * rules.MAX_FILENAME_LENGTH,
        tags=tuple(f"{n:02d}" + letter * (rules.MAX_TAG_LENGTH - 2) for n in range(rules.MAX_TAGS)),
        metadata=rules.metadata(metadata),
    )


@pytest.mark.parametrize("letter", ["a", "\u6f22", "\U0001f600"], ids=["ascii", "cjk", "emoji"])
def test_an_image_at_every_limit_publishes_within_one_transaction(letter: str) -> None:
    image = at_every_limit(letter)
    entries = items.entries(image)
    meta = items.to_item(image)
    # THEN each entry is within the budget, and the transaction (claim included) within 4 MB
    assert len(entries) == 4 + 3 * rules.MAX_TAGS
    assert all(item_size(entry) <= items.ENTRY_BUDGET for entry in entries)
    written = [meta, *entries, items.claim_item(image)]
    assert sum(item_size(item) for item in written) <= TRANSACTION_LIMIT
    assert item_size(meta) <= 400 * KB  # DynamoDB's item limit
    # AND such entries say they leave the custom metadata out
    assert all(items.is_partial(entry) for entry in entries)
    assert all("metadata" not in entry for entry in entries)


def test_a_typical_image_s_entries_carry_everything() -> None:
    image = replace(
        make_image(tags=("sea", "sunset"), status=ImageStatus.READY),
        metadata={"album": "Summer", "rating": 4},
    )
    for entry in items.entries(image):
        assert not items.is_partial(entry)
        assert items.from_item(entry) == image
