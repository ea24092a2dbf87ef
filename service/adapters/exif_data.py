"""EXIF with Pillow: what it says about the capture, and removing GPS without re-encoding.

GPS is removed by rewriting the container's EXIF block only; every other byte is copied as it
is (for JPEG: the entropy-coded data after SOS is byte-identical, so are the decoded pixels):

* JPEG: the APP1 ``Exif`` segment is rebuilt by Pillow (``Image.Exif.tobytes``) without the GPS
  IFD; an XMP APP1 packet that records GPS (``exif:GPS...``) is dropped.
* PNG: the ``eXIf`` chunk is rewritten (with its CRC).
* WebP: the RIFF ``EXIF`` chunk is rewritten (and the RIFF size).

Pillow writes IFD0 with its Exif sub-IFD; the embedded IFD1 thumbnail is not carried over.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
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

EXIF_HEADER = b"Exif\x00\x00"
XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


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


def without_gps(data: bytes) -> bytes | None:
    """The same file without GPS data, or None when there is none to remove (or the container
    is not one this module rewrites)."""
    if data.startswith(b"\xff\xd8"):
        return _jpeg_without_gps(data)
    if data.startswith(PNG_SIGNATURE):
        return _png_without_gps(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp_without_gps(data)
    return None


# --- JPEG --------------------------------------------------------------------------------------


def jpeg_segments(data: bytes) -> Iterator[tuple[int, int, int]]:
    """(marker, start, end) of each marker segment before the scan; the last is SOS, whose
    ``end`` is the end of the file (entropy-coded data and the rest, copied as is)."""
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            raise ValueError("not a JPEG marker")
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker == 0xDA:
            yield marker, position, len(data)
            return
        if 0xD0 <= marker <= 0xD9 or marker == 0x01:  # markers without a length
            yield marker, position, position + 2
            position += 2
            continue
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        yield marker, position, position + 2 + length
        position += 2 + length


def _jpeg_without_gps(data: bytes) -> bytes | None:
    parts = [data[:2]]
    changed = False
    for marker, start, end in jpeg_segments(data):
        segment = data[start:end]
        payload = segment[4:]
        if marker == 0xE1 and payload.startswith(EXIF_HEADER):
            rewritten = _exif_without_gps(payload)
            if rewritten is not None:
                if len(rewritten) + 2 > 0xFFFF:
                    raise ValueError("rewritten EXIF does not fit an APP1 segment")
                segment = b"\xff\xe1" + struct.pack(">H", len(rewritten) + 2) + rewritten
                changed = True
        elif marker == 0xE1 and payload.startswith(XMP_HEADER) and b"exif:GPS" in payload:
            segment = b""
            changed = True
        parts.append(segment)
    return b"".join(parts) if changed else None


def _exif_without_gps(block: bytes) -> bytes | None:
    """``block`` (``Exif\\0\\0`` + TIFF) without the GPS IFD, or None if it has none."""
    exif = Image.Exif()
    exif.load(block)
    if GPS_IFD not in exif:
        return None
    exif.get_ifd(EXIF_IFD)  # loaded, so that tobytes writes it back
    del exif[GPS_IFD]
    written = exif.tobytes()
    return written if written.startswith(EXIF_HEADER) else EXIF_HEADER + written


# --- PNG and WebP ------------------------------------------------------------------------------


def _png_without_gps(data: bytes) -> bytes | None:
    parts = [data[:8]]
    position, changed = 8, False
    while position + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        end = position + 12 + length
        chunk = data[position:end]
        if kind == b"eXIf":
            rewritten = _exif_without_gps(EXIF_HEADER + data[position + 8 : position + 8 + length])
            if rewritten is not None:
                body = rewritten[len(EXIF_HEADER) :]
                crc = zlib.crc32(kind + body) & 0xFFFFFFFF
                chunk = struct.pack(">I4s", len(body), kind) + body + struct.pack(">I", crc)
                changed = True
        parts.append(chunk)
        position = end
    parts.append(data[position:])
    return b"".join(parts) if changed else None


def _webp_without_gps(data: bytes) -> bytes | None:
    parts: list[bytes] = []
    position, changed = 12, False
    while position + 8 <= len(data):
        kind, length = struct.unpack("<4sI", data[position : position + 8])
        end = position + 8 + length + (length & 1)
        chunk = data[position:end]
        if kind == b"EXIF":
            payload = data[position + 8 : position + 8 + length]
            block = payload if payload.startswith(EXIF_HEADER) else EXIF_HEADER + payload
            rewritten = _exif_without_gps(block)
            if rewritten is not None:
                body = rewritten[len(EXIF_HEADER) :]
                chunk = struct.pack("<4sI", kind, len(body)) + body + b"\x00" * (len(body) & 1)
                changed = True
        parts.append(chunk)
        position = end
    if not changed:
        return None
    body = b"WEBP" + b"".join(parts) + data[position:]
    return b"RIFF" + struct.pack("<I", len(body)) + body


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
