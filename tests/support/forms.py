"""Multipart upload forms for Flask's test client."""

from __future__ import annotations

import io
from typing import Any


def upload_form(data: bytes, **fields: Any) -> dict[str, Any]:
    """A multipart form for the Flask test client, as the seed's examples send it."""
    filename = fields.pop("filename", "photo.jpg")
    content_type = fields.pop("file_content_type", None)
    form: dict[str, Any] = {"user_id": "user123", **fields}
    if content_type is None:
        form["image"] = (io.BytesIO(data), filename)
    else:
        form["image"] = (io.BytesIO(data), filename, content_type)
    return form
