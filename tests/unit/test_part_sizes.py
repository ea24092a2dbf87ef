"""Each part URL of a multipart session is signed for its part's exact size (S3 then refuses a
part of any other size: tests/containers/test_container_upload_integrity.py): part_size, and
the rest for the last part."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from service.domain.sessions import MIB
from tests.support.fakes import InMemoryUploadStore
from tests.support.images import png_of_size
from tests.support.upload_world import ALICE, World


class SigningStore(InMemoryUploadStore):
    """Keeps the size each part URL was signed for, by part number."""

    signed: dict[int, Any]

    def part_urls(
        self, key: str, multipart_id: str, sizes: Mapping[int, int], expires_in: int
    ) -> dict[int, str]:
        self.signed = dict(sizes) if isinstance(sizes, Mapping) else dict.fromkeys(sizes)
        return super().part_urls(key, multipart_id, sizes, expires_in)


def signed(world: World) -> dict[int, Any]:
    assert isinstance(world.store, SigningStore)
    return world.store.signed


@pytest.mark.parametrize(
    ("size", "sizes"),
    [
        (6 * MIB, {1: 6 * MIB}),  # one part, smaller than part_size
        (16 * MIB, {1: 8 * MIB, 2: 8 * MIB}),
        (20 * MIB + 5, {1: 8 * MIB, 2: 8 * MIB, 3: 4 * MIB + 5}),
    ],
    ids=["one-short-part", "whole-parts", "short-last-part"],
)
def test_each_part_url_is_signed_for_its_exact_size(size: int, sizes: dict[int, int]) -> None:
    world = World(store_class=SigningStore)

    ticket = world.open(png_of_size(size))

    assert ticket.session.part_size == 8 * MIB
    assert signed(world) == sizes


def test_parts_signed_again_are_signed_for_the_same_sizes() -> None:
    world = World(store_class=SigningStore)
    ticket = world.open(png_of_size(20 * MIB + 5))

    world.uploads.sign_parts(ALICE, ticket.session.upload_id, [3, 1])

    assert signed(world) == {1: 8 * MIB, 3: 4 * MIB + 5}
