"""How an image's page words its details: the camera, and moments as the server renders them.

A moment is shown in words (``6 May 2024, 07:08 UTC+02:00``) with its ISO 8601 form for the
page's script, which shows it in the viewer's own time zone and language. A capture time the
camera recorded without a zone stays the camera's clock: no zone can be converted from.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from service.domain.model import ExifSummary


class Moment(NamedTuple):
    iso: str  # a <time datetime="..."> value: with its offset when one is known
    words: str


def camera_name(exif: ExifSummary) -> str | None:
    """Make and model, the make once: many cameras repeat it in the model ("Canon EOS R5")."""
    make, model = (exif.make or "").strip(), (exif.model or "").strip()
    if model.casefold().startswith(make.casefold()):
        return model or None
    return f"{make} {model}".strip() or None


def moment(value: datetime) -> Moment:
    words = f"{value.day} {value:%b %Y, %H:%M}"
    offset = value.utcoffset()
    if offset is not None:
        words += f" {_zone(offset)}"
    return Moment(value.isoformat(timespec="seconds"), words)


def capture_moment(exif: ExifSummary) -> Moment | None:
    return moment(datetime.fromisoformat(exif.taken_at)) if exif.taken_at else None


def _zone(offset: timedelta) -> str:
    if not offset:
        return "UTC"
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes > 0 else "-"
    hours, minutes = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02}:{minutes:02}"
