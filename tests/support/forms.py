"""Multipart upload forms for Flask's test client."""

from __future__ import annotations

import io
from typing import Any

from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart


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


def encoded_upload_form(data: bytes, **fields: Any) -> tuple[bytes, str]:
    """``upload_form`` encoded here, in memory, and its Content-Type: the test client spools a
    form over 500 KB to a temporary file it never closes (a ResourceWarning, an error under
    this configuration), which a body sent as bytes avoids."""
    form = upload_form(data, **fields)
    stream, filename, *content_type = form.pop("image")
    fields_and_file: MultiDict[str, Any] = MultiDict(form)
    fields_and_file.add(
        "image",
        FileStorage(stream, filename, "image", content_type=(content_type or [None])[0]),
    )
    boundary, body = encode_multipart(fields_and_file)
    return body, f"multipart/form-data; boundary={boundary}"
