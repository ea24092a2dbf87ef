"""exiftool's verdict on HEIC and AVIF without their location (tests/support/exiftool.py): it
finds a position in each file first (in the EXIF item's GPS IFD and the XMP item, as pillow-heif
and Pillow write them, or as exiftool itself writes them), and none once the processor has
removed it; the camera's EXIF is still there, and the image still decodes."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from PIL import Image

from service.adapters.pillow_processor import PillowImageProcessor
from tests.support import heif_images as heif
from tests.support.exiftool import locations, written

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("integration")]

EXIFTOOL_GPS = (
    "GPSLatitude=48.8582",
    "GPSLatitudeRef=N",
    "GPSLongitude=2.2944",
    "GPSLongitudeRef=E",
    "XMP-exif:GPSLatitude=48.8582",
    "XMP-exif:GPSLongitude=2.2944",
)
LOCATED: dict[str, Callable[[], bytes]] = {
    "heic": lambda: heif.located("HEIF"),
    "avif": lambda: heif.located("AVIF"),
    "heic-written-by-exiftool": lambda: written(
        heif.encoded("HEIF", exif=heif.phone_exif(gps=False)), *EXIFTOOL_GPS
    ),
    "avif-written-by-exiftool": lambda: written(
        heif.encoded("AVIF", exif=heif.phone_exif(gps=False)), *EXIFTOOL_GPS
    ),
}


@pytest.mark.parametrize("make", list(LOCATED.values()), ids=list(LOCATED))
def test_exiftool_finds_no_gps_and_no_xmp_position_once_removed(
    make: Callable[[], bytes],
) -> None:
    original = make()
    found = locations(original)
    assert any(tag.startswith("GPS:") for tag in found), found
    assert any(tag.startswith("XMP-exif:") for tag in found), found

    stored = (
        PillowImageProcessor(max_pixels=1_000_000, max_frames=1)
        .without_location(io.BytesIO(original))
        .apply(original)
    )

    assert locations(stored) == []
    with Image.open(io.BytesIO(stored)) as image:
        image.load()
        assert image.getexif()[heif.MODEL] == "iPhone 15 Pro"
