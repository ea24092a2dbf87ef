"""The perceptual hash (service/adapters/perceptual_hash.py): near copies of a picture hash
within MAX_DISTANCE of each other, unrelated pictures far apart; upright as displayed."""

from __future__ import annotations

import functools
import io
import itertools
import math
import random
import statistics

import pytest
from PIL import Image, ImageDraw, ImageFilter

from service.adapters.perceptual_hash import perceptual_hash
from service.adapters.pillow_processor import PillowImageProcessor
from service.domain.errors import ImageTooLarge, InvalidImage
from service.domain.similarity import MAX_DISTANCE, distance, is_phash

PROCESSOR = PillowImageProcessor(max_pixels=4_000_000, max_frames=10)
# Unrelated pictures differ in about half of the 64 bits; this is far beyond MAX_DISTANCE.
UNRELATED = 10


@functools.cache
def photo(seed: int, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A picture with a photo's kind of content, the same for a seed: a smooth colour field,
    ellipses and rectangles, grain, all blurred a little."""
    rng = random.Random(seed)
    width, height = size
    field = Image.frombytes("RGB", (4, 3), rng.randbytes(4 * 3 * 3))
    picture = field.resize(size, Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(picture)
    for _ in range(8):
        left, top = rng.randrange(width), rng.randrange(height)
        right = left + rng.randrange(width // 8, width // 2)
        bottom = top + rng.randrange(height // 8, height // 2)
        fill = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape((left, top, right, bottom), fill=fill)
    grain = Image.frombytes("L", size, rng.randbytes(width * height)).convert("RGB")
    return Image.blend(picture, grain, 0.15).filter(ImageFilter.GaussianBlur(2))


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def hash_of(data: bytes) -> str:
    with Image.open(io.BytesIO(data)) as image:
        return perceptual_hash(image)


def near_copies(picture: Image.Image) -> dict[str, str]:
    """The hash of the picture and of copies of it as they reach the service."""
    width, height = picture.size
    rendition = PROCESSOR.render(io.BytesIO(encoded(picture, "JPEG", quality=90)), 256, "jpeg")
    return {
        "original": perceptual_hash(picture),
        "half": perceptual_hash(
            picture.resize((width // 2, height // 2), Image.Resampling.LANCZOS)
        ),
        "quarter": perceptual_hash(
            picture.resize((width // 4, height // 4), Image.Resampling.LANCZOS)
        ),
        "jpeg-50": hash_of(encoded(picture, "JPEG", quality=50)),
        "webp": hash_of(encoded(picture, "WEBP")),
        "rendition": PROCESSOR.perceptual_hash(rendition.data),
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_near_copies_of_a_picture_are_within_the_distance(seed: int) -> None:
    hashes = near_copies(photo(seed))
    far = {
        (a, b): distance(hashes[a], hashes[b])
        for a, b in itertools.combinations(hashes, 2)
        if distance(hashes[a], hashes[b]) > MAX_DISTANCE
    }
    assert far == {}, hashes


def test_unrelated_pictures_are_far_apart() -> None:
    hashes = {seed: perceptual_hash(photo(seed)) for seed in range(10, 16)}
    near = {
        (a, b): distance(hashes[a], hashes[b])
        for a, b in itertools.combinations(hashes, 2)
        if distance(hashes[a], hashes[b]) <= UNRELATED
    }
    assert near == {}, hashes


def test_the_hash_is_16_lowercase_hex_digits_and_the_same_every_time() -> None:
    data = encoded(photo(1), "JPEG", quality=85)
    first = PROCESSOR.perceptual_hash(data)
    assert is_phash(first), first
    assert PROCESSOR.perceptual_hash(data) == first
    assert hash_of(data) == first  # the processor's decode is the function's


def test_the_hash_is_of_the_picture_as_displayed() -> None:
    """A picture stored on its side with EXIF orientation 6 hashes as its upright copy does;
    without the tag it hashes as an unrelated picture (the turn is what makes them agree)."""
    upright = photo(4)
    sideways = upright.transpose(Image.Transpose.ROTATE_90)  # orientation 6 turns it back
    exif = Image.Exif()
    exif[0x0112] = 6
    tagged = PROCESSOR.perceptual_hash(encoded(sideways, "JPEG", quality=90, exif=exif.tobytes()))
    exif[0x0112] = 1
    turned = PROCESSOR.perceptual_hash(encoded(upright, "JPEG", quality=90, exif=exif.tobytes()))
    untagged = PROCESSOR.perceptual_hash(encoded(sideways, "JPEG", quality=90))
    assert distance(tagged, turned) <= MAX_DISTANCE
    assert distance(untagged, turned) > UNRELATED


def reference_hash(image: Image.Image) -> str:
    """The hash of a 32x32 grey image, from the 2-D DCT-II written out in full (no separation):
    F(v, u) = sum over y, x of p(y, x) cos(pi (2y + 1) v / 64) cos(pi (2x + 1) u / 64)."""
    pixels = image.tobytes()

    def cosine(n: int, k: int) -> float:
        return math.cos(math.pi * (2 * n + 1) * k / 64)

    low = [
        sum(pixels[y * 32 + x] * cosine(y, v) * cosine(x, u) for y in range(32) for x in range(32))
        for v in range(8)
        for u in range(8)
    ]
    median = statistics.median(low[1:])
    return f"{int(''.join('1' if value > median else '0' for value in low), 2):016x}"


def test_the_bits_are_the_low_frequencies_row_by_row_most_significant_first() -> None:
    grey = photo(5).convert("L").resize((32, 32), Image.Resampling.LANCZOS)
    assert perceptual_hash(grey) == reference_hash(grey)
    # The picture mirrored about its diagonal has its 8x8 block of bits mirrored alike.
    bits = f"{int(perceptual_hash(grey), 16):064b}"
    mirrored = "".join(bits[u * 8 + v] for v in range(8) for u in range(8))
    transposed = perceptual_hash(grey.transpose(Image.Transpose.TRANSPOSE))
    assert transposed == f"{int(mirrored, 2):016x}"
    assert transposed != perceptual_hash(grey)


def test_the_processor_refuses_what_it_refuses_elsewhere() -> None:
    with pytest.raises(InvalidImage):
        PROCESSOR.perceptual_hash(b"not an image at all")
    with pytest.raises(InvalidImage):
        PROCESSOR.perceptual_hash(encoded(photo(1), "JPEG")[:2000])
    small = PillowImageProcessor(max_pixels=10_000, max_frames=1)
    with pytest.raises(ImageTooLarge):
        small.perceptual_hash(encoded(photo(1), "JPEG"))
