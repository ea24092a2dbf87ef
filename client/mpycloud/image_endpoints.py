"""The image endpoints: create, list, get by ids, get, change, delete, batch, an image's
similar images, and the links to an image's bytes (download, thumbnail)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Literal

from mpycloud.connection import Connection
from mpycloud.files import FileReaders, Progress
from mpycloud.models import (
    BatchResult,
    DownloadLink,
    Image,
    ImagePage,
    Json,
    RenditionLink,
    SimilarImage,
)
from mpycloud.retries import idempotency_header

MAX_BATCH = 100  # ids per GET /images?ids= and per POST /images/batch
BatchAction = Literal["delete", "add_tags", "remove_tags"]
DateLike = str | date


def _chunks(ids: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), MAX_BATCH):
        yield list(ids[start : start + MAX_BATCH])


class ImageEndpoints(Connection):
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
        headers = idempotency_header(idempotency_key)
        with FileReaders(path, progress) as readers:

            def form() -> dict[str, Any]:
                return {"files": {"image": (path.name, readers.new(), part_type)}, "data": fields}

            response = self.call("POST", "/images", build=form, headers=headers)
        return Image.from_json(response.json(), response.headers.get("ETag"))

    def list_images(
        self,
        *,
        user_id: str | None = None,
        tags: Sequence[str] = (),
        content_type: str | None = None,
        date_from: DateLike | None = None,
        date_to: DateLike | None = None,
        taken_from: DateLike | None = None,
        taken_to: DateLike | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> ImagePage:
        """One page, newest first. Some filters give short (even empty) pages with a cursor:
        ``iter_images`` follows them."""
        given = {
            "user_id": user_id,
            "tags": ",".join(tags) or None,
            "content_type": content_type,
            "date_from": date_from,
            "date_to": date_to,
            "taken_from": taken_from,
            "taken_to": taken_to,
            "limit": limit,
            "cursor": cursor,
        }
        params = {k: v.isoformat() if isinstance(v, date) else v for k, v in given.items()}
        body = self.call(
            "GET", "/images", params={k: v for k, v in params.items() if v is not None}
        ).json()
        items = [Image.from_json(item) for item in body["items"]]
        return ImagePage(items=items, next_cursor=body.get("next_cursor"))

    def iter_images(self, **filters: Any) -> Iterator[Image]:
        """Every image the filters match, page after page (``limit`` is the page size)."""
        cursor = filters.pop("cursor", None)
        while True:
            page = self.list_images(cursor=cursor, **filters)
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def get_images(self, ids: Sequence[str]) -> list[Image]:
        """Those images, in batches of 100 ids; missing ones are left out."""
        found: list[Image] = []
        for chunk in _chunks(ids):
            body = self.call("GET", "/images", params={"ids": ",".join(chunk)}).json()
            found.extend(Image.from_json(item) for item in body["items"])
        return found

    def get_image(self, image_id: str) -> Image:
        response = self.call("GET", f"/images/{image_id}")
        return Image.from_json(response.json(), response.headers.get("ETag"))

    def similar(self, image_id: str) -> list[SimilarImage]:
        """The caller's own images that look like this one (resized or re-encoded copies),
        nearest first, then newest; none while the service has not hashed the image yet."""
        body = self.call("GET", f"/images/{image_id}/similar").json()
        return [SimilarImage.from_json(item) for item in body["items"]]

    def update_image(
        self,
        image_id: str,
        *,
        description: str | None = None,
        tags: Sequence[str] | None = None,
        metadata: Json | None = None,
        if_match: str | None = None,
    ) -> Image:
        """``PATCH``: the fields given replace the old ones; ``if_match`` an ETag (else 412)."""
        changes: Json = {"description": description, "tags": tags, "metadata": metadata}
        headers = {"If-Match": if_match} if if_match else {}
        body = {k: list(v) if k == "tags" else v for k, v in changes.items() if v is not None}
        response = self.call("PATCH", f"/images/{image_id}", json=body, headers=headers)
        return Image.from_json(response.json(), response.headers.get("ETag"))

    def delete_image(self, image_id: str, *, if_match: str | None = None) -> None:
        headers = {"If-Match": if_match} if if_match else {}
        self.call("DELETE", f"/images/{image_id}", headers=headers)

    def batch(
        self, action: BatchAction, ids: Sequence[str], tags: Sequence[str] = ()
    ) -> list[BatchResult]:
        """``POST /images/batch`` in batches of 100: a result for every id."""
        results: list[BatchResult] = []
        for chunk in _chunks(ids):
            body: Json = {"action": action, "ids": chunk}
            if action != "delete":
                body["tags"] = list(tags)
            answer = self.call("POST", "/images/batch", json=body).json()
            results.extend(BatchResult(**item) for item in answer["results"])
        return results

    def delete_images(self, ids: Sequence[str]) -> list[BatchResult]:
        return self.batch("delete", ids)

    def add_tags(self, ids: Sequence[str], tags: Sequence[str]) -> list[BatchResult]:
        return self.batch("add_tags", ids, tags)

    def remove_tags(self, ids: Sequence[str], tags: Sequence[str]) -> list[BatchResult]:
        return self.batch("remove_tags", ids, tags)

    def download_link(self, image_id: str) -> DownloadLink:
        body = self.call("GET", f"/images/{image_id}/download").json()
        return DownloadLink(download_url=body["download_url"], expires_in=body["expires_in"])

    def thumbnail(
        self, image_id: str, *, size: int | None = None, format: str = "auto"
    ) -> RenditionLink:
        params: Json = {"redirect": "false", "format": format}
        if size is not None:
            params["size"] = size
        body = self.call("GET", f"/images/{image_id}/thumbnail", params=params).json()
        fields = ("url", "expires_in", "width", "height", "format")
        return RenditionLink(**{name: body[name] for name in fields})
