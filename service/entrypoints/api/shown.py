"""What one caller may see of an image: ImageSchema dumps a ShownImage, never an Image alone."""

from __future__ import annotations

import msgspec

from service.domain.model import Image
from service.entrypoints.api.auth import caller
from service.entrypoints.api.context import image_service


class ShownImage(msgspec.Struct, frozen=True):
    """``with_location``: the caller may see where the photo was taken, and whether the upload
    carried GPS (its owner only).
    ``duplicate_of``: an upload found these bytes already stored as that image."""

    image: Image
    with_location: bool
    duplicate_of: str | None = None


def shown(image: Image, *, duplicate: bool = False) -> ShownImage:
    """The image as this request's caller may see it."""
    return ShownImage(
        image,
        with_location=image_service().sees_location(caller(), image),
        duplicate_of=image.image_id if duplicate else None,
    )
