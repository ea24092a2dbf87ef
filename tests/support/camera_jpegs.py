"""JPEGs with a camera's EXIF: make, model and capture time, as cameras record them."""

from __future__ import annotations

import io

from PIL import Image as PILImage

MAKE, MODEL, EXIF_IFD = 0x010F, 0x0110, 0x8769
DATE_TIME_ORIGINAL, OFFSET_TIME_ORIGINAL = 0x9003, 0x9011


def camera_jpeg(
    make: str = "Canon",
    model: str = "Canon EOS R5",
    taken: str | None = "2024:05:06 07:08:09",
    offset: str | None = "+02:00",
    color: str = "teal",
) -> bytes:
    """A 64 x 48 JPEG; ``taken`` in EXIF's own form, ``offset`` the zone the camera recorded."""
    exif = PILImage.Exif()
    exif[MAKE] = make
    exif[MODEL] = model
    details = exif.get_ifd(EXIF_IFD)
    if taken is not None:
        details[DATE_TIME_ORIGINAL] = taken
    if offset is not None:
        details[OFFSET_TIME_ORIGINAL] = offset
    buffer = io.BytesIO()
    PILImage.new("RGB", (64, 48), color).save(buffer, "JPEG", quality=90, exif=exif.tobytes())
    return buffer.getvalue()
