"""Access to the ImageService wired into the current app by create_app."""

from __future__ import annotations

from typing import cast

from flask import current_app

from service.usecases.images import ImageService
from service.usecases.upload_sessions import UploadService

EXTENSION = "image_service"
UPLOADS_EXTENSION = "upload_service"
UPLOAD_ENDPOINT = "images.Images"  # POST: the one route whose body may be a whole file


def image_service() -> ImageService:
    return cast(ImageService, current_app.extensions[EXTENSION])


def upload_service() -> UploadService:
    return cast(UploadService, current_app.extensions[UPLOADS_EXTENSION])
