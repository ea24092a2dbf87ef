"""Python client of the mPyCloud image service: ``Client(base_url, token=...)``.

Its modules, each importing only those below it (``cli`` is the command line, on top):

- ``client``: ``Client``, the endpoints plus whole files up (``uploads``) and down
  (``downloads``), which build on ``endpoints``;
- ``endpoints``: every endpoint, from ``image_endpoints`` and ``upload_session_endpoints``,
  which build on ``connection`` (the token and two channels) and ``retries``;
- ``signin`` (Cognito tokens for ``mpycloud login``) and ``config`` (the command's file);
- at the bottom, importing no other module of the package: ``errors``, ``models``,
  ``files``, ``tokens``; and ``resume``, which uses ``files`` only.

Words: an *upload session* is the service's ``/uploads`` resource (the bytes go to S3
through it); signing in gives *credentials* (a token), never called a session. This package
never imports the service. Its public names are imported on first use: ``mpycloud``'s
command line starts, and can be interrupted, before httpx has loaded.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mpycloud.client import Client
    from mpycloud.errors import (
        ApiError,
        BadRequest,
        Conflict,
        ConnectionFailed,
        Forbidden,
        Gone,
        MpycloudError,
        NotFound,
        PayloadTooLarge,
        PreconditionFailed,
        ServerError,
        ServiceUnavailable,
        StorageError,
        TooManyRequests,
        Unauthorized,
        UnsupportedMediaType,
        UploadFailed,
        UploadStillProcessing,
        ValidationFailed,
    )
    from mpycloud.models import (
        BatchResult,
        DownloadLink,
        Health,
        Image,
        ImagePage,
        Rendition,
        RenditionLink,
        SimilarImage,
        UploadResult,
        UploadStatus,
        UploadTicket,
    )
    from mpycloud.resume import FileResumeStore, MemoryResumeStore, ResumeStore
    from mpycloud.retries import RetryPolicy
    from mpycloud.uploads import DIRECT_UPLOAD_LIMIT, NotAnImage

__all__ = [
    "DIRECT_UPLOAD_LIMIT",
    "ApiError",
    "BadRequest",
    "BatchResult",
    "Client",
    "Conflict",
    "ConnectionFailed",
    "DownloadLink",
    "FileResumeStore",
    "Forbidden",
    "Gone",
    "Health",
    "Image",
    "ImagePage",
    "MemoryResumeStore",
    "MpycloudError",
    "NotAnImage",
    "NotFound",
    "PayloadTooLarge",
    "PreconditionFailed",
    "Rendition",
    "RenditionLink",
    "ResumeStore",
    "RetryPolicy",
    "ServerError",
    "ServiceUnavailable",
    "SimilarImage",
    "StorageError",
    "TooManyRequests",
    "Unauthorized",
    "UnsupportedMediaType",
    "UploadFailed",
    "UploadResult",
    "UploadStatus",
    "UploadStillProcessing",
    "UploadTicket",
    "ValidationFailed",
]

# The modules the names of __all__ come from.
_SOURCES = ("client", "errors", "models", "resume", "retries", "uploads")


def __getattr__(name: str) -> Any:
    if name in __all__:
        for source in _SOURCES:
            module = vars(importlib.import_module(f"mpycloud.{source}"))
            if name in module:
                return module[name]
    raise AttributeError(f"module 'mpycloud' has no attribute {name!r}")
