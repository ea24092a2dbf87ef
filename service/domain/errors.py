"""Domain errors. The HTTP layer maps each class to a status in one table (api/errors.py)."""

from __future__ import annotations

from typing import Any


class ImageServiceError(Exception):
    """Base class; ``message`` is safe to show to the client. ``detail``, when set, is for the
    log only: what a library or another service said (its words may change with its version,
    and may name internals). ``retry_after``, when set, is the number of seconds after which
    the same request may succeed."""

    retry_after: int | None = None

    def __init__(
        self, message: str, errors: dict[str, Any] | None = None, *, detail: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors
        self.detail = detail


class ImageNotFound(ImageServiceError):
    def __init__(self, image_id: str) -> None:
        super().__init__(f"Image {image_id} not found")


class MalformedImageId(ImageServiceError):
    def __init__(self, image_id: str) -> None:
        super().__init__(f"{image_id!r} is not an image id")


class InvalidImage(ImageServiceError):
    """The bytes are not a readable image: empty, truncated, corrupt or not an image at all."""


class UnsupportedImage(ImageServiceError):
    """A readable image whose format is not allowed, or whose declared type lies."""


class ImageTooLarge(ImageServiceError):
    """Bigger than the byte, pixel or frame limits."""


class LocationNotRemovable(ImageServiceError):
    """With ``STRIP_GPS`` on, the upload carries a location (or metadata that may hold one) that
    cannot be removed without re-encoding the image: it is refused rather than stored with it."""


class InvalidInput(ImageServiceError):
    """Well-formed request with values the service does not accept."""


class InvalidCursor(ImageServiceError):
    def __init__(self) -> None:
        super().__init__("The cursor is invalid, expired or belongs to another query")


class NotAuthenticated(ImageServiceError):
    """The request needs a signed-in caller and has none."""


class InvalidToken(NotAuthenticated):
    """A bearer token was given but cannot be trusted (signature, issuer, expiry, client)."""


class MalformedToken(InvalidToken):
    """What was sent as a token is not a JWT at all (three base64url parts)."""

    def __init__(self) -> None:
        super().__init__("The token is malformed: it is not a JWT")


class SignInFailed(NotAuthenticated):
    """The identity provider did not accept the user name and password (or wants a step the
    service does not offer, such as a new password)."""


class Forbidden(ImageServiceError):
    """The caller is signed in but may not do this (another user's image, for instance)."""


class PreconditionFailed(ImageServiceError):
    """The client's ``If-Match`` names a version that is no longer the current one."""


class ImageConflict(ImageServiceError):
    """The image changed underneath the request (for example, deleted meanwhile)."""


class DuplicateImage(ImageConflict):
    """The user already has a READY image of the same bytes (same SHA-256): ``image_id``.
    ImageService answers that image instead; should the error ever escape, it is a conflict."""

    def __init__(self, image_id: str) -> None:
        super().__init__(f"The same bytes are already image {image_id}")
        self.image_id = image_id


class IdempotencyKeyReused(InvalidInput):
    """The ``Idempotency-Key`` was used before by the same user for another request."""


class RequestInProgress(ImageServiceError):
    """The first request with this ``Idempotency-Key`` is still running; retry after it."""

    retry_after = 1


class StorageUnavailable(ImageServiceError):
    """S3 or DynamoDB failed; nothing half-made is visible. The client may retry."""


class DecoderBusy(ImageServiceError):
    """Every decoding slot stayed taken for as long as a request may wait. The client may retry."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"The server is busy decoding other images; retry in {retry_after} seconds"
        )
        self.retry_after = retry_after


class UploadNotFound(ImageServiceError):
    """No such upload session, or not the caller's (sessions are private: see
    usecases/upload_sessions.py)."""

    def __init__(self, upload_id: str) -> None:
        super().__init__(f"Upload {upload_id} not found")


class UploadExpired(ImageServiceError):
    """The session's time is up; its bytes are discarded. Start a new one."""


class UploadRejected(InvalidInput):
    """What arrived is not what the session declared (size, SHA-256); it is discarded."""


class UploadChanged(UploadRejected):
    """The object changed while complete read it: what it checked is no longer there, so
    nothing is published."""

    def __init__(self) -> None:
        super().__init__(
            "The upload changed while it was checked; nothing was published: start a new upload"
        )


class UploadIncomplete(InvalidInput):
    """Complete was asked before the bytes arrived (nothing, or parts missing); the session
    stays open."""


class StorageRefusedInput(ImageServiceError):
    """S3 or DynamoDB refused what the request carried (a validation or serialization error).
    Retrying the same request cannot help, so this is never reported as StorageUnavailable."""
