"""The ``/uploads`` endpoints: upload sessions, through which the bytes go to S3 directly."""

from __future__ import annotations

from collections.abc import Sequence

from mpycloud.connection import Connection
from mpycloud.models import Image, Json, UploadStatus, UploadTicket
from mpycloud.retries import idempotency_header


class UploadSessionEndpoints(Connection):
    def start_upload(
        self,
        *,
        filename: str,
        content_type: str,
        size: int,
        sha256: str | None = None,
        fields: Json | None = None,
        idempotency_key: str | None = None,
    ) -> UploadTicket:
        body: Json = {"filename": filename, "content_type": content_type, "size": size}
        body |= {"sha256": sha256} if sha256 else {}
        body |= fields or {}
        answer = self.call(
            "POST", "/uploads", json=body, headers=idempotency_header(idempotency_key)
        )
        return UploadTicket.from_json(answer.json())

    def upload_status(self, upload_id: str) -> UploadStatus:
        return UploadStatus.from_json(self.call("GET", f"/uploads/{upload_id}").json())

    def sign_parts(self, upload_id: str, part_numbers: Sequence[int]) -> dict[int, str]:
        body = self.call(
            "POST", f"/uploads/{upload_id}/parts", json={"part_numbers": list(part_numbers)}
        ).json()
        return {int(p["part_number"]): p["url"] for p in body["parts"]}

    def complete_upload(
        self,
        upload_id: str,
        parts: dict[int, str] | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> Image:
        """Publish what arrived; ``parts`` maps part numbers to S3's ETags (multipart)."""
        listed = [{"part_number": n, "etag": etag} for n, etag in sorted((parts or {}).items())]
        response = self.call(
            "POST",
            f"/uploads/{upload_id}/complete",
            json={"parts": listed},
            headers=idempotency_header(idempotency_key),
        )
        return Image.from_json(response.json(), response.headers.get("ETag"))

    def abort_upload(self, upload_id: str) -> None:
        self.call("DELETE", f"/uploads/{upload_id}")
