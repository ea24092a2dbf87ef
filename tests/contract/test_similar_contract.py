"""ImageRepository.similar: the fake and the DynamoDB adapter alike find every image of a user
whose perceptual hash is within distance 3, whichever bits differ, and none beyond it, of no
other user, and none hidden."""

from __future__ import annotations

import random

from service.domain.model import RenditionInfo
from service.domain.similarity import MAX_DISTANCE, distance
from service.ports import ImageRepository
from tests.support.images import add_ready, make_image

SMALLEST = RenditionInfo(size=256, format="jpeg", width=256, height=171)
HASH = "8f3a5c0e91d2b746"


def flipped(phash: str, bits: list[int]) -> str:
    value = int(phash, 16)
    for bit in bits:
        value ^= 1 << bit
    return f"{value:016x}"


def hashed(
    repository: ImageRepository, phash: str, *, user: str = "alice", minutes: int = 0
) -> str:
    image = add_ready(repository, make_image(user=user, minutes=minutes))
    repository.add_rendition(image.image_id, SMALLEST, phash=phash)
    return image.image_id


def test_every_hash_within_three_bits_is_found_and_none_beyond(
    repository: ImageRepository,
) -> None:
    # GIVEN hashes 0 to 5 bits from HASH, the flipped bits spread over every band (a fixed seed)
    chosen = random.Random(23)
    near: list[tuple[str, int]] = []
    far: list[tuple[str, int]] = []
    for minutes, flips in enumerate([0, 1, 2, 3, 3, 3, 4, 5, 16], start=1):
        phash = flipped(HASH, chosen.sample(range(64), flips))
        image_id = hashed(repository, phash, minutes=minutes)
        (near if distance(HASH, phash) <= MAX_DISTANCE else far).append((image_id, flips))
    # three bits in three different bands, each band but one changed
    spread = flipped(HASH, [1, 17, 33])
    near.append((hashed(repository, spread, minutes=20), 3))
    # AND the same hash for another user
    hashed(repository, HASH, user="bob", minutes=21)

    found = repository.similar("alice", HASH)

    assert sorted(found) == sorted(near)
    assert [apart for _, apart in found] == sorted(apart for _, apart in found)
    assert not {image_id for image_id, _ in far} & {image_id for image_id, _ in found}


def test_a_hidden_image_is_not_found_and_a_new_hash_moves_its_bands(
    repository: ImageRepository,
) -> None:
    hidden = hashed(repository, HASH, minutes=1)
    moved = hashed(repository, HASH, minutes=2)
    image = repository.get(hidden)
    assert image is not None
    repository.hide(image)
    # A rendition recorded again with another hash (the worker made it again)
    other = flipped(HASH, [0, 16, 32, 48, 60])
    repository.add_rendition(moved, SMALLEST, phash=other)

    assert repository.similar("alice", HASH) == []
    assert repository.similar("alice", other) == [(moved, 0)]
