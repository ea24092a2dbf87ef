"""The ``/uploads`` endpoints: upload sessions, through which the bytes go to S3 directly.

``complete`` hands the bytes to the service's worker: it answers the session PROCESSING (202),
and ``wait_for_upload`` asks ``GET /uploads/{id}`` again, as often as its ``Retry-After`` says,
until the session is READY (published) or FAILED.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from mpycloud.connection import Connection
from mpycloud.errors import MpycloudError, UploadFailed, UploadStillProcessing, retry_after_seconds
from mpycloud.models import FAILED, OPEN, Json, UploadStatus, UploadTicket
from mpycloud.retries import idempotency_header

PROCESSING_TIMEOUT = 15 * 60.0  # seconds an upload may stay PROCESSING before the wait ends
MAX_POLL_INTERVAL = 5.0  # seconds between two questions at most, whatever Retry-After says
MIN_POLL_INTERVAL = 0.25
DEFAULT_POLL_INTERVAL = 1.0  # without a Retry-After
# (the session as last seen, seconds waited so far): called before each wait.
Waiting = Callable[[UploadStatus, float], None]


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
        response = self.call("GET", f"/uploads/{upload_id}")
        return UploadStatus.from_json(response.json(), retry_after_seconds(response))

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
    ) -> UploadStatus:
        """Hand what arrived to the service (``parts`` maps part numbers to S3's ETags, for a
        multipart upload): the session, PROCESSING (or already finished). ``wait_for_upload``
        waits for its outcome."""
        listed = [{"part_number": n, "etag": etag} for n, etag in sorted((parts or {}).items())]
        response = self.call(
            "POST",
            f"/uploads/{upload_id}/complete",
            json={"parts": listed},
            headers=idempotency_header(idempotency_key),
        )
        return UploadStatus.from_json(response.json(), retry_after_seconds(response))

    def wait_for_upload(
        self,
        upload_id: str,
        *,
        timeout: float = PROCESSING_TIMEOUT,
        max_interval: float = MAX_POLL_INTERVAL,
        seen: UploadStatus | None = None,
        waiting: Waiting | None = None,
    ) -> UploadStatus:
        """The session once it is READY, asking again as its ``Retry-After`` says (at most
        ``max_interval`` apart); ``seen`` is an answer already in hand (``complete``'s).

        FAILED raises UploadFailed, with the service's sentence; still PROCESSING after
        ``timeout`` seconds raises UploadStillProcessing, which names the upload: the service
        goes on with it. An OPEN session was not completed: nothing to wait for."""
        started = self.clock()
        status = seen or self.upload_status(upload_id)
        while not status.finished:
            if status.status == OPEN:
                raise MpycloudError(f"upload {upload_id} is open: complete it first")
            waited = self.clock() - started
            if waited >= timeout:
                raise UploadStillProcessing(upload_id, waited)
            if waiting is not None:
                waiting(status, waited)
            asked = DEFAULT_POLL_INTERVAL if status.retry_after is None else status.retry_after
            self.sleep(max(MIN_POLL_INTERVAL, min(asked, max_interval, timeout - waited)))
            status = self.upload_status(upload_id)
        if status.status == FAILED:
            raise UploadFailed(upload_id, status.failure)
        return status

    def abort_upload(self, upload_id: str) -> None:
        self.call("DELETE", f"/uploads/{upload_id}")
