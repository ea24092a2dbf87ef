"""``Client``: every endpoint of the service, and whole files up and down on top of them."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Unpack

from mpycloud.connection import ConnectionOptions
from mpycloud.downloads import download_to
from mpycloud.endpoints import Endpoints
from mpycloud.files import Progress
from mpycloud.models import Json, UploadResult
from mpycloud.resume import ResumeStore
from mpycloud.upload_session_endpoints import PROCESSING_TIMEOUT, Waiting
from mpycloud.uploads import DIRECT_UPLOAD_LIMIT, Uploader


class Client(Endpoints):
    """``Client("http://127.0.0.1:8000", token=...)``. Thread-safe: share one between threads.

    ``direct_upload_limit``: files up to this size go in one ``POST /images``, larger ones
    through an upload session (the request cap under Lambda is 4.5 MB), whose outcome the
    service decides after the bytes are in: ``upload`` waits for it, up to
    ``processing_timeout`` seconds (15 minutes). ``resume`` keeps the ids of upload sessions
    until their outcome is known, so that an interrupted upload of the same bytes resumes
    (the missing parts, or the wait). ``transport`` replaces httpx's (tests use
    ``httpx.MockTransport``); ``sleep`` is what waits (between retries, while an upload is
    processing), ``clock`` what tells the time (``time.monotonic``).
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        direct_upload_limit: int = DIRECT_UPLOAD_LIMIT,
        resume: ResumeStore | None = None,
        processing_timeout: float = PROCESSING_TIMEOUT,
        **connection: Unpack[ConnectionOptions],
    ) -> None:
        super().__init__(base_url, token, **connection)
        self.uploader = Uploader(self, direct_upload_limit, resume, processing_timeout)

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
        waiting: Waiting | None = None,
    ) -> UploadResult:
        """Upload a file by the best route for its size; a duplicate is not an error. Through
        an upload session, wait until the service has processed it (``waiting(session,
        seconds_waited)`` is called before each wait): UploadFailed when it refused the bytes,
        UploadStillProcessing past ``processing_timeout``. ``progress`` may raise to stop the
        upload: a multipart one resumes later."""
        return self.uploader.upload(
            Path(path),
            description=description,
            tags=list(tags),
            metadata=metadata or {},
            user_id=user_id,
            progress=progress,
            waiting=waiting,
        )

    def download(
        self, image_id: str, destination: str | Path, *, progress: Progress | None = None
    ) -> Path:
        """The original bytes into ``destination`` (a folder: under the image's file name)."""
        return download_to(self, image_id, Path(destination), progress)
