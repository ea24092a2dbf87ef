"""EXIF through the Pillow adapter, past the camera JPEG of tests/unit/test_renditions.py: the
values a capture summary must not report (out of range, impossible dates, unreadable numbers)
and EXIF blocks that are not TIFF. Removing a location: tests/unit/test_location_scrub.py."""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

from service.adapters import exif_data
from service.adapters.pillow_processor import PillowImageProcessor
from service.domain.model import ImageInfo

EVERY_TYPE = ("image/jpeg", "image/png", "image/gif", "image/webp")
PARIS = ((48.0, 51.0, 29.5), (2.0, 17.0, 40.0))


@pytest.fixture
def processor(monkeypatch: pytest.MonkeyPatch) -> PillowImageProcessor:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", Image.MAX_IMAGE_PIXELS)
    return PillowImageProcessor(max_pixels=4_000_000, max_frames=10)


def camera_exif(
    latitude: tuple[object, ...] | None = PARIS[0],
    longitude: tuple[object, ...] = PARIS[1],
    *,
    north: str = "N",
    east: str = "E",
) -> Image.Exif:
    """Orientation 3 and a camera make, and a GPS position unless ``latitude`` is None."""
    exif = Image.Exif()
    exif[exif_data.ORIENTATION] = 3
    exif[exif_data.MAKE] = "Canon"
    if latitude is not None:
        gps = exif.get_ifd(exif_data.GPS_IFD)
        gps[exif_data.GPS_LATITUDE_REF] = north
        gps[exif_data.GPS_LATITUDE] = latitude
        gps[exif_data.GPS_LONGITUDE_REF] = east
        gps[exif_data.GPS_LONGITUDE] = longitude
    return exif


def saved(fmt: str, exif: Image.Exif | None = None, **options: object) -> bytes:
    pixels = Image.new("RGB", (20, 10), "red")
    pixels.paste(Image.new("RGB", (10, 10), "blue"), (10, 0))
    buffer = io.BytesIO()
    extra = {"exif": exif.tobytes()} if exif is not None else {}
    pixels.save(buffer, format=fmt, **extra, **options)
    return buffer.getvalue()


def inspected(processor: PillowImageProcessor, data: bytes) -> ImageInfo:
    return processor.inspect(io.BytesIO(data), accepted=EVERY_TYPE)


# --- what is reported ----------------------------------------------------------------------------


def test_south_and_west_are_negative(processor: PillowImageProcessor) -> None:
    info = inspected(processor, saved("JPEG", camera_exif(north="S", east="W")))

    assert info.location is not None
    assert info.location.latitude == pytest.approx(-48.8582, abs=1e-4)
    assert info.location.longitude == pytest.approx(-2.2944, abs=1e-4)


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [
        ((95.0, 0.0, 0.0), PARIS[1]),  # beyond a pole
        (PARIS[0], (181.0, 0.0, 0.0)),  # beyond the antimeridian
        ((IFDRational(1, 0), 51.0, 29.5), PARIS[1]),  # a degree that is no number
        ((48.0, 51.0), PARIS[1]),  # two parts instead of three
    ],
)
def test_a_position_that_cannot_be_is_not_reported(
    processor: PillowImageProcessor, latitude: tuple[object, ...], longitude: tuple[object, ...]
) -> None:
    info = inspected(processor, saved("JPEG", camera_exif(latitude, longitude)))

    assert info.location is None
    assert info.exif is not None
    assert info.exif.gps_present  # still removed from the stored original


def test_values_no_camera_writes_are_left_out_of_the_summary(
    processor: PillowImageProcessor,
) -> None:
    exif = camera_exif(latitude=None)
    exif[exif_data.ORIENTATION] = 9  # orientations are 1 to 8
    details = exif.get_ifd(exif_data.EXIF_IFD)
    details[exif_data.DATE_TIME_ORIGINAL] = "2024:13:45 25:61:00"
    details[exif_data.OFFSET_TIME_ORIGINAL] = "+02:00"
    details[exif_data.F_NUMBER] = IFDRational(1, 0)
    details[exif_data.EXPOSURE_TIME] = 0.0

    info = inspected(processor, saved("JPEG", exif))

    assert info.orientation == 1
    assert info.exif is not None
    assert info.exif.make == "Canon"
    assert info.exif.taken_at is None
    assert info.exif.f_number is None
    assert info.exif.exposure_time is None


@pytest.mark.parametrize(("seconds", "shown"), [(2.0, "2"), (1.5, "1.5"), (0.004, "1/250")])
def test_exposure_times_read_as_a_photographer_writes_them(
    processor: PillowImageProcessor, seconds: float, shown: str
) -> None:
    exif = camera_exif(latitude=None)
    exif.get_ifd(exif_data.EXIF_IFD)[exif_data.EXPOSURE_TIME] = seconds

    info = inspected(processor, saved("JPEG", exif))

    assert info.exif is not None
    assert info.exif.exposure_time == shown


def test_an_exif_block_that_is_not_tiff_leaves_the_image_readable(
    processor: PillowImageProcessor,
) -> None:
    plain = saved("JPEG")
    payload = b"Exif\x00\x00not a TIFF header at all"
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    broken = plain[:2] + segment + plain[2:]

    info = inspected(processor, broken)

    assert (info.width, info.height, info.orientation) == (20, 10, 1)
    assert info.location is None
