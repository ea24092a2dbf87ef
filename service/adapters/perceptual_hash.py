"""A 64-bit perceptual hash (pHash) of an opened image, with Pillow alone.

The picture, upright and in grey, is resized to 32x32 and taken into the frequency domain with
a 2-D DCT-II; its 8x8 lowest frequencies keep its broad shapes and drop the detail that scaling
and re-encoding change. Each of those 64 coefficients gives one bit: above their median or not.
Near copies of a picture (resized, re-encoded, recompressed) differ in a few bits, unrelated
pictures in about half (``service.domain.similarity`` compares them).

The DCT is computed in plain Python, separably (rows, then columns), and only for the 8 lowest
frequencies of each direction: a few thousand multiplications, which spares the service numpy
and scipy.
"""

from __future__ import annotations

import math
import operator
import statistics
from collections.abc import Sequence

from PIL import Image, ImageOps

from service.domain.similarity import HASH_BITS

# The side the picture is resized to, and the side of the block of low frequencies kept.
SIDE = 32
KEPT = math.isqrt(HASH_BITS)
# A JPEG is decoded at the smallest DCT scale that keeps both sides at this size or more.
DRAFT_SIZE = (2 * SIDE, 2 * SIDE)

# DCT-II without normalisation: coefficient k of a row x is sum(x[n] * COSINES[k][n]). Scaling
# every coefficient alike (orthonormal or not) changes no comparison with the median.
COSINES = tuple(
    tuple(math.cos(math.pi * (2 * n + 1) * k / (2 * SIDE)) for n in range(SIDE))
    for k in range(KEPT)
)


def perceptual_hash(image: Image.Image) -> str:
    """The hash of ``image`` (opened; a JPEG not yet loaded is decoded at a reduced scale) as
    16 lowercase hex digits: bit i (most significant first) is coefficient i of the 8x8 low
    frequencies, row by row, above the median of those coefficients but the constant one."""
    image.draft("L", DRAFT_SIZE)
    grey = ImageOps.exif_transpose(image).convert("L")
    small = grey.resize((SIDE, SIDE), Image.Resampling.LANCZOS)
    pixels = small.tobytes()  # one byte a pixel, row by row
    rows = [pixels[y * SIDE : (y + 1) * SIDE] for y in range(SIDE)]
    # Along each row: the KEPT lowest horizontal frequencies of every row.
    across = [[_dot(cosine, row) for cosine in COSINES] for row in rows]
    # Then down each of those columns: the KEPT lowest vertical frequencies.
    columns = list(zip(*across, strict=True))
    low = [_dot(cosine, columns[u]) for cosine in COSINES for u in range(KEPT)]
    # The constant term (the mean brightness) dwarfs the others: left out of the median.
    median = statistics.median(low[1:])
    bits = 0
    for value in low:
        bits = bits << 1 | (value > median)
    return f"{bits:0{HASH_BITS // 4}x}"


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    return math.fsum(map(operator.mul, a, b))
