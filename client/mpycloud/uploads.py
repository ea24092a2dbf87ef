"""Upload routing: one ``POST /images`` when the file fits in a request, else an upload
session (a presigned POST, or presigned parts that resume after an interruption), whose
outcome the service's worker decides after ``complete``: the upload waits for it.

The service does not announce its request cap: under Lambda it is API Gateway's 4.5 MB
(docs/api.md, "Upload sessions"), elsewhere MAX_FILE_SIZE plus the form. Files are routed by
that documented cap, and a 413 about the request body (a server with a lower
``MAX_REQUEST_BODY``, or a gateway's own 413), or one that points to upload sessions, sends the
file through an upload session instead: the caller never meets the cap.

An upload session's id is kept (``resume``) from its start until its outcome is known: the same
bytes uploaded again resume the missing parts of a multipart upload, or the wait for a session
already completed, instead of being sent again.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

from mpycloud.endpoints import Endpoints
from mpycloud.errors import (
    ApiError,
    Gone,
    MpycloudError,
    NotFound,
    PayloadTooLarge,
    StorageError,
    UploadFailed,
)
from mpycloud.files import FileReaders, Progress, file_slice, sha256_file, sniff_content_type
from mpycloud.models import (
    FAILED,
    OPEN,
    Json,
    UploadResult,
    UploadRoute,
    UploadStatus,
    UploadTicket,
)
from mpycloud.resume import ResumeStore
from mpycloud.tokens import token_subject
from mpycloud.upload_session_endpoints import PROCESSING_TIMEOUT, Waiting

LAMBDA_REQUEST_CAP = 4_500_000
FORM_ALLOWANCE = 64 * 1024  # the form's other fields and part headers
DIRECT_UPLOAD_LIMIT = LAMBDA_REQUEST_CAP - FORM_ALLOWANCE


class NotAnImage(MpycloudError):
    """The file's first bytes are not an image type the service takes."""


def _is_request_cap(error: PayloadTooLarge) -> bool:
    # The service's own 413s about the file (MAX_FILE_SIZE, pixels) would fail an upload
    # session too.
    message = error.message.lower()
    return not error.is_service_shape or "request body" in message or "upload session" in message


class Uploader:
    def __init__(
        self,
        endpoints: Endpoints,
        direct_limit: int,
        resume: ResumeStore | None,
        processing_timeout: float = PROCESSING_TIMEOUT,
    ) -> None:
        self._api = endpoints
        self.direct_limit = direct_limit
        self._resume = resume
        self.processing_timeout = processing_timeout

    def upload(
        self,
        path: Path,
        *,
        description: str,
        tags: list[str],
        metadata: Json,
        user_id: str | None,
        progress: Progress | None,
        waiting: Waiting | None = None,
    ) -> UploadResult:
        size = path.stat().st_size
        content_type = sniff_content_type(path)
        fields: Json = {"description": description, "tags": tags, "metadata": metadata}
        fields |= {"user_id": user_id} if user_id else {}
        if size <= self.direct_limit:
            form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()}
            try:
                image = self._api.create_image(
                    path, fields=form, content_type=content_type, progress=progress
                )
                return UploadResult(image, image.duplicate_of is not None, "direct", size)
            except PayloadTooLarge as error:
                if not _is_request_cap(error):
                    raise
        if content_type is None:
            raise NotAnImage(f"{path.name}: not a JPEG, PNG, GIF, WebP, HEIC, HEIF or AVIF file")
        return self._through_upload_session(path, size, content_type, fields, progress, waiting)

    def _through_upload_session(
        self,
        path: Path,
        size: int,
        content_type: str,
        fields: Json,
        progress: Progress | None,
        waiting: Waiting | None,
    ) -> UploadResult:
        sha256 = sha256_file(path)
        owner = fields.get("user_id") or token_subject(self._api.token)
        key = f"{self._api.base_url} {owner} {sha256} {size}"
        resumed = self._resume_upload(key, path, size, progress, waiting)
        if resumed is not None:
            return resumed
        ticket = self._api.start_upload(
            filename=path.name, content_type=content_type, size=size, sha256=sha256, fields=fields
        )
        if self._resume is not None:
            self._resume.put(key, ticket.upload_id)
        if ticket.method == "POST":
            self._post_to_storage(ticket, path, content_type, progress)
            return self._complete(key, ticket.upload_id, {}, size, "session", waiting)
        part_size = ticket.part_size or size
        etags = self._put_parts(
            path, size, part_size, ticket.upload_id, ticket.part_urls, {}, progress
        )
        return self._complete(key, ticket.upload_id, etags, size, "multipart", waiting)

    def _resume_upload(
        self, key: str, path: Path, size: int, progress: Progress | None, waiting: Waiting | None
    ) -> UploadResult | None:
        """What an earlier run left of an upload of the same bytes: its missing parts sent, or
        its outcome waited for; None when there is nothing to go on with."""
        upload_id = self._resume.get(key) if self._resume is not None else None
        if upload_id is None:
            return None
        try:
            status = self._api.upload_status(upload_id)
        except (NotFound, Gone):
            self._forget(key)
            return None
        # FAILED: the bytes are gone, they are sent again; a single POST still OPEN has
        # nothing to resume either.
        if status.size != size or status.status == FAILED:
            self._forget(key)
            return None
        route: UploadRoute = "multipart" if status.part_size else "session"
        if status.status != OPEN:  # completed: processing, or done
            return self._outcome(key, status, 0, route, waiting, resumed=True)
        if not status.part_size:
            self._forget(key)
            return None
        held = {
            part.part_number: part.etag
            for part in status.parts
            if part.size == _part_length(part.part_number, status.part_size, size)
        }
        missing = [n for n in range(1, status.part_count + 1) if n not in held]
        urls = self._api.sign_parts(upload_id, missing) if missing else {}
        sent = self._put_parts(path, size, status.part_size, upload_id, urls, held, progress)
        sent_bytes = sum(_part_length(n, status.part_size, size) for n in sent)
        return self._complete(key, upload_id, held | sent, sent_bytes, route, waiting, resumed=True)

    def _complete(
        self,
        key: str,
        upload_id: str,
        etags: dict[int, str],
        sent: int,
        route: UploadRoute,
        waiting: Waiting | None,
        *,
        resumed: bool = False,
    ) -> UploadResult:
        try:
            status = self._api.complete_upload(upload_id, etags)
        except ApiError as error:
            if error.status < 500 and error.status != 409:  # the session is gone or discarded
                self._forget(key)
            raise
        return self._outcome(key, status, sent, route, waiting, resumed=resumed)

    def _outcome(
        self,
        key: str,
        status: UploadStatus,
        sent: int,
        route: UploadRoute,
        waiting: Waiting | None,
        *,
        resumed: bool,
    ) -> UploadResult:
        """The image, once the session is READY. Still processing when the wait ends (or is
        interrupted), the session's id stays kept: the next upload of the bytes waits again."""
        try:
            done = self._api.wait_for_upload(
                status.upload_id, timeout=self.processing_timeout, seen=status, waiting=waiting
            )
        except (UploadFailed, NotFound, Gone):  # the session is over, or gone
            self._forget(key)
            raise
        self._forget(key)
        if done.image_id is None:
            raise MpycloudError(f"upload {done.upload_id} is ready but names no image")
        image = self._api.get_image(done.image_id)
        if done.duplicate:  # as POST /images tells it: the caller's image of the same bytes
            image = dataclasses.replace(image, duplicate_of=image.image_id)
        return UploadResult(image, done.duplicate, route, sent, resumed)

    def _forget(self, key: str) -> None:
        if self._resume is not None:
            self._resume.forget(key)

    def _post_to_storage(
        self, ticket: UploadTicket, path: Path, content_type: str, progress: Progress | None
    ) -> None:
        with FileReaders(path, progress) as readers:

            def form() -> Json:
                # S3 reads the policy's fields first: the file must be the form's last part.
                return {
                    "data": ticket.fields,
                    "files": {"file": (path.name, readers.new(), content_type)},
                }

            response = self._api.storage.request("POST", ticket.url or "", build=form)
        if not response.is_success:
            raise StorageError(response.status_code, response.text)

    def _put_parts(
        self,
        path: Path,
        size: int,
        part_size: int,
        upload_id: str,
        urls: dict[int, str],
        held: dict[int, str],
        progress: Progress | None,
    ) -> dict[int, str]:
        """PUT every part not ``held``; the ETags S3 answered, by part number."""
        done = sum(_part_length(n, part_size, size) for n in held)
        etags: dict[int, str] = {}
        for number in sorted(urls):
            length = _part_length(number, part_size, size)
            report = _progress_after(progress, done, size)
            offset = (number - 1) * part_size
            try:
                etags[number] = self._put_part(path, offset, length, urls[number], report)
            except StorageError as error:
                if error.status != 403:  # 403: the signed URL expired; sign it again once
                    raise
                url = self._api.sign_parts(upload_id, [number])[number]
                etags[number] = self._put_part(path, offset, length, url, report)
            done += length
        return etags

    def _put_part(
        self, path: Path, offset: int, length: int, url: str, report: Callable[[int], None] | None
    ) -> str:
        def body() -> Json:
            return {"content": file_slice(path, offset, length, report)}

        response = self._api.storage.request(
            "PUT", url, build=body, headers={"Content-Length": str(length)}
        )
        if not response.is_success:
            raise StorageError(response.status_code, response.text)
        return response.headers["ETag"]


def _part_length(number: int, part_size: int, size: int) -> int:
    return max(0, min(part_size, size - (number - 1) * part_size))


def _progress_after(
    progress: Progress | None, before: int, total: int
) -> Callable[[int], None] | None:
    if progress is None:
        return None
    return lambda done: progress(before + done, total)
