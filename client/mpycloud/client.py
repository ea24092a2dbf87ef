"""``Client``: one method per endpoint of the service, answers as dataclasses."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Unpack

from mpycloud.base import ConnectionOptions
from mpycloud.files import Progress, ProgressReader
from mpycloud.http import IDEMPOTENCY_HEADER
from mpycloud.image_endpoints import ImageEndpoints
from mpycloud.models import (
    DownloadLink,
    Health,
    Image,
    Json,
    RenditionLink,
    UploadResult,
)
from mpycloud.resume import ResumeStore
from mpycloud.session_endpoints import UploadSessionEndpoints, new_idempotency_key
from mpycloud.uploads import DIRECT_UPLOAD_LIMIT, Uploader


class Client(ImageEndpoints, UploadSessionEndpoints):
    """``Client("http://127.0.0.1:8000", token=...)``. Thread-safe: share one between threads.

    ``direct_upload_limit``: files up to this size go in one ``POST /images``, larger ones
    through an upload session (the request cap under Lambda is 4.5 MB). ``resume`` keeps the
    ids of multipart sessions, so that an interrupted upload of the same bytes resumes.
    ``transport`` replaces httpx's (tests use ``httpx.MockTransport``); ``sleep`` is what
    waits between retries.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        direct_upload_limit: int = DIRECT_UPLOAD_LIMIT,
        resume: ResumeStore | None = None,
        **connection: Unpack[ConnectionOptions],
    ) -> None:
        super().__init__(base_url, token, **connection)
        self.uploader = Uploader(self, direct_upload_limit, resume)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def upload(
        self,
        path: str | Path,
        *,
        description: str = "",
        tags: Iterable[str] = (),
        metadata: Json | None = None,
        user_id: str | None = None,
        progress: Progress | None = None,
    ) -> UploadResult:
        """Upload a file by the best route for its size; a duplicate is not an error."""
        return self.uploader.upload(
            Path(path),
            description=description,
            tags=list(tags),
            metadata=metadata or {},
            user_id=user_id,
            progress=progress,
        )

    def create_image(
        self,
        path: Path,
        *,
        fields: dict[str, str],
        content_type: str | None = None,
        progress: Progress | None = None,
        idempotency_key: str | None = None,
    ) -> Image:
        """``POST /images``: the file in one request (mind the request cap: see ``upload``)."""
        part_type = content_type or "application/octet-stream"
        readers: list[ProgressReader] = []

        def form() -> dict[str, Any]:
            readers.append(ProgressReader(path, progress))
            return {"files": {"image": (path.name, readers[-1], part_type)}, "data": fields}

        key = idempotency_key or new_idempotency_key()
        try:
            response = self.call("POST", "/images", build=form, headers={IDEMPOTENCY_HEADER: key})
        finally:
            for reader in readers:
                reader.close()
        return Image.from_json(response.json(), response.headers.get("ETag"))

    def download_link(self, image_id: str) -> DownloadLink:
        body = self.call("GET", f"/images/{image_id}/download").json()
        return DownloadLink(download_url=body["download_url"], expires_in=body["expires_in"])

    def download(
        self, image_id: str, destination: str | Path, *, progress: Progress | None = None
    ) -> Path:
        """The original bytes into ``destination`` (a folder: under the image's file name)."""
        from mpycloud.downloads import download_to

        return download_to(self, image_id, Path(destination), progress)

    def thumbnail(
        self, image_id: str, *, size: int | None = None, format: str = "auto"
    ) -> RenditionLink:
        params: Json = {"redirect": "false", "format": format}
        if size is not None:
            params["size"] = size
        body = self.call("GET", f"/images/{image_id}/thumbnail", params=params).json()
        fields = ("url", "expires_in", "width", "height", "format")
        return RenditionLink(**{name: body[name] for name in fields})

    # Service

    def health(self) -> Health:
        return Health(**self.call("GET", "/health").json())

    def ready(self) -> Health:
        return Health(**self.call("GET", "/health/ready").json())

    def openapi(self) -> Json:
        document: Json = json.loads(self.call("GET", "/openapi.json").content)
        return document
