"""Near-duplicates: a 64-bit perceptual hash per image, as 16 hex digits, compared by Hamming
distance. Plain data: no I/O.

Two hashes within MAX_DISTANCE of each other differ in at most MAX_DISTANCE bits, so of the
BANDS = MAX_DISTANCE + 1 slices of 16 bits at least one is the same in both (pigeonhole): an
image is listed under each of its bands, and the images near a hash are among those listed under
one of that hash's bands.
"""

from __future__ import annotations

HASH_BITS = 64
MAX_DISTANCE = 3
BANDS = MAX_DISTANCE + 1
BAND_BITS = HASH_BITS // BANDS


def bands(phash: str) -> list[str]:
    """The hash's slices of BAND_BITS, each named by its place: ``"<place>-<hex>"``."""
    digits = BAND_BITS // 4
    return [f"{place}-{phash[place * digits : (place + 1) * digits]}" for place in range(BANDS)]


def distance(a: str, b: str) -> int:
    """How many of the 64 bits differ."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def is_phash(text: str) -> bool:
    return len(text) == HASH_BITS // 4 and all(c in "0123456789abcdef" for c in text)
