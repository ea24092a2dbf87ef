"""EXIF with Pillow: what it says about the capture (removing a location is
``service.adapters.location_scrub``'s)."""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from typing import Any

from PIL import Image

from service.domain.model import ExifSummary, GeoPoint

EXIF_IFD = 0x8769
GPS_IFD = 0x8825
ORIENTATION = 0x0112
MAKE = 0x010F
MODEL = 0x0110
DATE_TIME_ORIGINAL = 0x9003
OFFSET_TIME_ORIGINAL = 0x9011
EXPOSURE_TIME = 0x829A
F_NUMBER = 0x829D
ISO = 0x8827
FOCAL_LENGTH = 0x920A
LENS_MODEL = 0xA434
GPS_LATITUDE_REF, GPS_LATITUDE, GPS_LONGITUDE_REF, GPS_LONGITUDE = 1, 2, 3, 4


def read(image: Image.Image) -> tuple[int, ExifSummary | None, GeoPoint | None]:
    """Orientation (1 when absent or invalid), the capture summary and the GPS position."""
    try:
        exif = image.getexif()
    except Exception:  # a broken EXIF block must not make a readable image unreadable
        return 1, None, None
    if not exif:
        return 1, None, None
    orientation = _integer(exif.get(ORIENTATION))
    details = _ifd(exif, EXIF_IFD)
    gps = _ifd(exif, GPS_IFD)
    summary = ExifSummary(
        taken_at=_taken_at(details.get(DATE_TIME_ORIGINAL), details.get(OFFSET_TIME_ORIGINAL)),
        make=_text(exif.get(MAKE)),
        model=_text(exif.get(MODEL)),
        lens=_text(details.get(LENS_MODEL)),
        exposure_time=_exposure(details.get(EXPOSURE_TIME)),
        f_number=_number(details.get(F_NUMBER)),
        iso=_integer(_first(details.get(ISO))),
        focal_length=_number(details.get(FOCAL_LENGTH)),
        gps_present=bool(gps),
    )
    return (
        orientation if orientation is not None and 1 <= orientation <= 8 else 1,
        summary,
        _position(gps),
    )


# --- Values ------------------------------------------------------------------------------------


def _ifd(exif: Image.Exif, tag: int) -> dict[int, Any]:
    try:
        return dict(exif.get_ifd(tag))
    except Exception:
        return {}


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    text = value.replace("\x00", "").strip()
    return text[:128] or None


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, tuple | list) and value else value


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return round(number, 4) if number == number and abs(number) != float("inf") else None


def _integer(value: Any) -> int | None:
    number = _number(value)
    return int(number) if number is not None else None


def _exposure(value: Any) -> str | None:
    seconds = _number(value)
    if seconds is None or seconds <= 0:
        return None
    if seconds >= 1:
        return f"{seconds:g}"
    fraction = Fraction(seconds).limit_denominator(100_000)
    return f"1/{round(1 / fraction)}" if fraction.numerator else None


def _taken_at(value: Any, offset: Any) -> str | None:
    text = _text(value)
    if text is None or len(text) < 19:
        return None
    try:
        date, time = text[:19].split(" ")
        year, month, day = (int(part) for part in date.split(":"))
        hour, minute, second = (int(part) for part in time.split(":"))
        moment = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"
        zone = _text(offset) or ""
        if len(zone) == 6 and zone[0] in "+-" and zone[3] == ":":
            moment += zone
        datetime.fromisoformat(moment)  # a real date and time, or not at all
        return moment
    except ValueError:
        return None


def _position(gps: dict[int, Any]) -> GeoPoint | None:
    latitude = _degrees(gps.get(GPS_LATITUDE), gps.get(GPS_LATITUDE_REF), "S")
    longitude = _degrees(gps.get(GPS_LONGITUDE), gps.get(GPS_LONGITUDE_REF), "W")
    if latitude is None or longitude is None:
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    return GeoPoint(latitude, longitude)


def _degrees(value: Any, reference: Any, negative: str) -> float | None:
    if not isinstance(value, tuple | list) or len(value) != 3:
        return None
    parts = [_number(part) for part in value]
    if any(part is None for part in parts):
        return None
    degrees, minutes, seconds = (float(part or 0) for part in parts)
    result = degrees + minutes / 60 + seconds / 3600
    return -result if _text(reference) == negative else result
