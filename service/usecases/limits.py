"""What the image service accepts, and how long what it hands out lives."""

from __future__ import annotations

import msgspec


class Limits(msgspec.Struct, frozen=True):
    """What the image service accepts and how long what it hands out lives: every field is a
    setting, whose default ``service.settings`` spells."""

    max_file_size: int
    allowed_content_types: tuple[str, ...]
    download_url_ttl: int
    sweep_grace_seconds: int
    rendition_sizes: tuple[int, ...]
    rendition_formats: tuple[str, ...]
    strip_gps: bool
    gps_precision: int
    thumbnail_url_ttl: int

    @property
    def smallest_rendition(self) -> int:
        return min(self.rendition_sizes)
