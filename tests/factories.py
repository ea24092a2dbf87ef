"""Image records for repository tests (metadata only, no bytes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service.model import Image, ImageStatus, new_image_id

START = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def make_image(
    minutes: int = 0,
    *,
    user: str = "alice",
    tags: tuple[str, ...] = (),
    content_type: str = "image/jpeg",
    status: ImageStatus = ImageStatus.PENDING,
) -> Image:
    created = START + timedelta(minutes=minutes)
    return Image(
        image_id=new_image_id(created),
        user_id=user,
        content_type=content_type,
        size_bytes=10,
        width=2,
        height=3,
        sha256="0" * 64,
        original_filename="photo.jpg",
        created_at=created,
        updated_at=created,
        description="d",
        tags=tags,
        metadata={"camera": "x", "iso": 200, "ratio": 1.5, "flag": True, "none": None},
        status=status,
    )
