"""EXIF through the Pillow adapter, past the camera JPEG of tests/unit/test_renditions.py: GPS
removed from PNG and WebP originals, unusual JPEG layouts, and the values a capture summary
must not report (out of range, impossible dates, unreadable numbers)."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

from service.adapters import exif_data
from service.adapters.pillow_processor import PillowImageProcessor
from service.domain.errors import InvalidImage
from service.domain.model import ImageInfo
from tests.support.images import has_gps, scan_data

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


def png_chunks(data: bytes) -> list[tuple[bytes, bytes, int]]:
    """(kind, body, stored CRC) of every chunk of a PNG."""
    chunks, position = [], 8
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        chunks.append((kind, body, crc))
        position += 12 + length
    return chunks


# --- GPS removal --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "options"), [("PNG", {}), ("WEBP", {"lossless": True}), ("WEBP", {"quality": 90})]
)
def test_png_and_webp_originals_lose_their_gps_and_keep_pixels_and_other_exif(
    processor: PillowImageProcessor, fmt: str, options: dict[str, object]
) -> None:
    original = saved(fmt, camera_exif(), **options)
    assert has_gps(original)
    assert inspected(processor, original).location is not None

    stripped = processor.without_gps(original)

    assert stripped is not None
    assert not has_gps(stripped)
    with Image.open(io.BytesIO(stripped)) as after, Image.open(io.BytesIO(original)) as before:
        assert after.format == fmt
        assert after.tobytes() == before.tobytes()
        kept = after.getexif()
        assert (kept[exif_data.ORIENTATION], kept[exif_data.MAKE]) == (3, "Canon")
    info = inspected(processor, stripped)
    assert info.location is None
    assert info.exif is not None
    assert not info.exif.gps_present
    # Nothing left to remove the second time.
    assert processor.without_gps(stripped) is None


def test_a_rewritten_png_chunk_carries_a_valid_crc(processor: PillowImageProcessor) -> None:
    stripped = processor.without_gps(saved("PNG", camera_exif()))

    assert stripped is not None
    chunks = png_chunks(stripped)
    assert b"eXIf" in [kind for kind, _, _ in chunks]
    for kind, body, crc in chunks:
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc, kind


def test_a_rewritten_webp_states_its_new_riff_size(processor: PillowImageProcessor) -> None:
    original = saved("WEBP", camera_exif(), lossless=True)

    stripped = processor.without_gps(original)

    assert stripped is not None
    assert len(stripped) < len(original)
    (riff_size,) = struct.unpack("<I", stripped[4:8])
    assert riff_size == len(stripped) - 8


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_exif_without_gps_is_left_as_it_is(processor: PillowImageProcessor, fmt: str) -> None:
    assert processor.without_gps(saved(fmt, camera_exif(latitude=None))) is None


def test_a_format_the_service_does_not_rewrite_has_nothing_removed(
    processor: PillowImageProcessor,
) -> None:
    assert processor.without_gps(saved("GIF")) is None


def test_an_xmp_packet_recording_gps_is_dropped_and_other_xmp_kept(
    processor: PillowImageProcessor,
) -> None:
    with_gps = b'<x:xmpmeta><rdf:Description exif:GPSLatitude="48,51.49N"/></x:xmpmeta>'
    without = b'<x:xmpmeta><rdf:Description dc:title="Paris"/></x:xmpmeta>'
    located = saved("JPEG", xmp=with_gps)
    titled = saved("JPEG", xmp=without)
    assert exif_data.XMP_HEADER in located

    stripped = processor.without_gps(located)

    assert stripped is not None
    assert exif_data.XMP_HEADER not in stripped
    assert b"GPSLatitude" not in stripped
    assert scan_data(stripped) == scan_data(located)
    assert processor.without_gps(titled) is None


def test_fill_bytes_before_a_marker_do_not_stop_the_rewrite(
    processor: PillowImageProcessor,
) -> None:
    plain = saved("JPEG", camera_exif())
    padded = plain[:2] + b"\xff\xff" + plain[2:]  # fill bytes are allowed before any marker

    stripped = processor.without_gps(padded)

    assert stripped is not None
    assert not has_gps(stripped)
    assert scan_data(stripped) == scan_data(plain)
    with Image.open(io.BytesIO(stripped)) as after, Image.open(io.BytesIO(plain)) as before:
        assert after.tobytes() == before.tobytes()


def test_a_marker_without_a_length_is_copied_as_it_is() -> None:
    plain = saved("JPEG", camera_exif())
    with_tem = plain[:2] + b"\xff\x01" + plain[2:]  # TEM: a marker with no length field

    stripped = exif_data.without_gps(with_tem)

    assert stripped is not None
    assert stripped.startswith(b"\xff\xd8\xff\x01")
    assert scan_data(stripped) == scan_data(plain)
    assert [marker for marker, _, _ in exif_data.jpeg_segments(stripped)][:2] == [0x01, 0xE0]


def test_a_jpeg_whose_segments_are_broken_is_refused_as_an_invalid_image(
    processor: PillowImageProcessor,
) -> None:
    with pytest.raises(InvalidImage, match="EXIF cannot be rewritten"):
        processor.without_gps(b"\xff\xd8" + b"\x00" * 16)


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
    payload = exif_data.EXIF_HEADER + b"not a TIFF header at all"
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    broken = plain[:2] + segment + plain[2:]

    info = inspected(processor, broken)

    assert (info.width, info.height, info.orientation) == (20, 10, 1)
    assert info.location is None
