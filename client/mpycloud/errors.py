"""Typed errors. An API error carries the service's JSON error: code, status, message, errors."""

from __future__ import annotations

import json
from typing import Any

import httpx


class MpycloudError(Exception):
    """Every error this package raises."""


class ConnectionFailed(MpycloudError):
    """No answer from ``url``: the connection failed, timed out or broke off (on every
    attempt). ``url`` is the one that failed, without its query: the query of a presigned
    URL is its signature, a credential."""

    def __init__(self, failure: str, url: httpx.URL, error: Exception) -> None:
        self.url = str(url.copy_with(query=None, fragment=None))
        super().__init__(f"{failure} {self.url}: {type(error).__name__}: {error}")


class StorageError(MpycloudError):
    """S3 refused a presigned request (upload or download): its status and (XML) answer."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"storage answered {status}: {text[:300]}")
        self.status = status
        self.text = text


class UploadFailed(MpycloudError):
    """The service refused an upload session's bytes after ``complete`` (status FAILED):
    ``failure`` is its sentence for the owner. The bytes are gone: start a new upload."""

    def __init__(self, upload_id: str, failure: str | None) -> None:
        self.upload_id = upload_id
        self.failure = failure or "the service gave no reason"
        super().__init__(f"upload {upload_id} failed: {self.failure}")


class UploadStillProcessing(MpycloudError):
    """An upload session was still PROCESSING when the wait for it ended. The service goes on
    with it: ``upload_status(upload_id)`` (or ``wait_for_upload``) tells its outcome later."""

    def __init__(self, upload_id: str, waited: float) -> None:
        self.upload_id = upload_id
        self.waited = waited
        super().__init__(
            f"upload {upload_id} is still processing after {waited:.0f} s; the service goes on "
            f"with it: GET /uploads/{upload_id} tells how it ends"
        )


class ApiError(MpycloudError):
    """The service answered an error. ``body`` is its JSON error as sent."""

    status = 0

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message
        self.errors = errors or {}
        self.body = body or {}
        self.request_id = request_id
        self.retry_after = retry_after

    @property
    def is_service_shape(self) -> bool:
        """The body is the service's own error shape (not a gateway's or proxy's)."""
        return "code" in self.body and "message" in self.body


class BadRequest(ApiError):
    """400: a malformed id, a file that is no image, a bad cursor."""


class Unauthorized(ApiError):
    """401: no token, or a refused one (expired, wrong issuer): sign in again."""


class Forbidden(ApiError):
    """403: someone else's image."""


class NotFound(ApiError):
    """404: no such image, or no such upload session of yours."""


class Conflict(ApiError):
    """409: changed meanwhile, or the same Idempotency-Key still running."""


class Gone(ApiError):
    """410: the upload session expired."""


class PreconditionFailed(ApiError):
    """412: If-Match no longer names the current version."""


class PayloadTooLarge(ApiError):
    """413: over the request cap, MAX_FILE_SIZE, or the pixel and frame caps."""


class UnsupportedMediaType(ApiError):
    """415: a format the service does not take, or not the declared one."""


class ValidationFailed(ApiError):
    """422: invalid fields or parameters; ``errors`` says which."""


class TooManyRequests(ApiError):
    """429: throttled (API Gateway)."""


class ServerError(ApiError):
    """5xx: the service failed; a retry may work."""


class ServiceUnavailable(ServerError):
    """503: storage unavailable or every decoding slot busy."""


ERROR_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: Gone,
    412: PreconditionFailed,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    422: ValidationFailed,
    429: TooManyRequests,
    503: ServiceUnavailable,
}


def retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        # An HTTP date: rare for this service; the backoff's own delay will do.
        return None


def error_from(response: httpx.Response) -> ApiError:
    """The typed error of an error answer, whatever its body (the service's JSON or not)."""
    status = response.status_code
    body: dict[str, Any] = {}
    try:
        parsed = json.loads(response.content)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        body = parsed
    message = body.get("message") or response.text.strip()[:300] or response.reason_phrase
    errors = body.get("errors")
    kind = ERROR_BY_STATUS.get(status) or (ServerError if status >= 500 else ApiError)
    return kind(
        status,
        str(message),
        errors=errors if isinstance(errors, dict) else None,
        body=body,
        request_id=response.headers.get("X-Request-Id"),
        retry_after=retry_after_seconds(response),
    )
