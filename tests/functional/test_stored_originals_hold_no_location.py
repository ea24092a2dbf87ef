"""STRIP_GPS (on by default): whatever path an upload takes, the original stored holds no
position that exiftool can find (tests/support/exiftool.py), and its pixels are the ones sent.

Each fixture (tests/support/located_images.py) hides a position somewhere a reader finds it;
exiftool is shown to find it there first. The uploads go through the Flask test client on
moto's in-process S3 + DynamoDB; the bytes of upload sessions are sent with ``requests``,
which moto intercepts. Ids start with the letter of the case in the issue they cover.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support import located_images as located
from tests.support.exiftool import exiftool, locations

LOCATED: dict[str, Callable[[], bytes]] = {
    "jpeg-exif-gps": lambda: located.jpeg(exif=located.exif_block()),
    "png-exif-gps": lambda: located.png(None, located.png_chunk(b"eXIf", located.tiff_block())),
    "webp-exif-gps": lambda: located.webp(exif=located.exif_block()),
    "a-png-exif-profile-ztxt": located.png_with_exif_profile,
    "a-png-exif-profile-text-without-header": lambda: located.png_with_exif_profile(
        b"tEXt", header=False
    ),
    "a-png-exif-profile-after-the-image-data": lambda: located.png_with_exif_profile(
        before_data=False
    ),
    "b-jpeg-xmp-only": located.jpeg_with_xmp_gps,
    "b-jpeg-extended-xmp": located.jpeg_with_extended_xmp,
    "c-jpeg-xmp-exif-namespace-under-other-prefixes": lambda: located.jpeg_with_xmp_gps(
        located.RENAMED_GPS
    ),
    "d-png-itxt-xmp": located.png_with_xmp,
    "d-webp-xmp-chunk": located.webp_with_xmp,
    "e-jpeg-second-exif-segment": located.jpeg_with_two_exif_segments,
    "f-jpeg-motion-photo-trailer": located.jpeg_with_motion_photo_trailer,
}


@pytest.fixture(autouse=True)
def _exiftool() -> None:
    """Skipped (or failed, with REQUIRE_EXIFTOOL=1) before anything is uploaded."""
    exiftool()


@pytest.mark.parametrize("name", LOCATED)
def test_exiftool_finds_the_location_of_every_fixture(name: str) -> None:
    assert locations(LOCATED[name]())
