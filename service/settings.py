"""Runtime settings: the only module that reads ``os.environ``.

Names follow the original design document (``S3_BUCKET_NAME``, ``DYNAMODB_TABLE_NAME``, ...).
A bad value fails at start-up with a message that names the setting.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlparse

from service.model import ACCEPTED_CONTENT_TYPES

# A synchronous Lambda event is capped at 6 MB and carries the body base64-encoded.
LAMBDA_MAX_REQUEST_BODY = 4_500_000
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# gunicorn's threaded and synchronous workers; the async ones need packages the image lacks.
WORKER_CLASSES = ("gthread", "sync")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it."""


@dataclass(frozen=True)
class Settings:
    s3_bucket_name: str = "image-storage-bucket"
    dynamodb_table_name: str = "images"
    max_file_size: int = 10 * 1024 * 1024
    allowed_content_types: tuple[str, ...] = ACCEPTED_CONTENT_TYPES
    aws_endpoint_url: str | None = None
    # Endpoint written into presigned URLs. Inside docker compose the service reaches S3 as
    # http://localstack:4566, which the user's browser cannot resolve.
    s3_public_endpoint_url: str | None = None
    aws_default_region: str = "us-east-1"
    log_level: str = "INFO"
    max_image_pixels: int = 50_000_000
    max_image_frames: int = 200
    download_url_ttl: int = 900
    sweep_grace_seconds: int = 900
    # Signs pagination cursors. Every process serving the same API must share it; None means
    # a random secret per process, which is only right for a single process.
    cursor_secret: str | None = field(default=None, repr=False)
    # Largest request body the runtime can hand us; in Lambda it defaults to
    # LAMBDA_MAX_REQUEST_BODY so an oversize upload gets a 413 that says the limit.
    max_request_body: int | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        reader = _Reader(env)
        defaults = cls()
        settings = cls(
            s3_bucket_name=reader.text("S3_BUCKET_NAME", defaults.s3_bucket_name),
            dynamodb_table_name=reader.text("DYNAMODB_TABLE_NAME", defaults.dynamodb_table_name),
            max_file_size=reader.integer("MAX_FILE_SIZE", defaults.max_file_size, minimum=1),
            allowed_content_types=reader.content_types("ALLOWED_CONTENT_TYPES"),
            aws_endpoint_url=reader.url("AWS_ENDPOINT_URL"),
            s3_public_endpoint_url=reader.url("S3_PUBLIC_ENDPOINT_URL"),
            aws_default_region=reader.text(
                "AWS_DEFAULT_REGION", reader.text("AWS_REGION", defaults.aws_default_region)
            ),
            log_level=reader.choice("LOG_LEVEL", defaults.log_level, LOG_LEVELS),
            max_image_pixels=reader.integer(
                "MAX_IMAGE_PIXELS", defaults.max_image_pixels, minimum=1
            ),
            max_image_frames=reader.integer(
                "MAX_IMAGE_FRAMES", defaults.max_image_frames, minimum=1
            ),
            download_url_ttl=reader.integer(
                "DOWNLOAD_URL_TTL", defaults.download_url_ttl, minimum=1, maximum=604_800
            ),
            sweep_grace_seconds=reader.integer(
                "SWEEP_GRACE_SECONDS", defaults.sweep_grace_seconds, minimum=0
            ),
            cursor_secret=reader.secret("CURSOR_SECRET"),
            max_request_body=reader.integer(
                "MAX_REQUEST_BODY",
                LAMBDA_MAX_REQUEST_BODY if reader.raw("AWS_LAMBDA_RUNTIME_API") else 0,
                minimum=0,
            )
            or None,
        )
        return settings


@dataclass(frozen=True)
class ServerSettings:
    """gunicorn's settings in the container image (``service/gunicorn_conf.py``)."""

    port: int = 8000
    worker_class: str = "gthread"
    workers: int = 2
    threads: int = 8
    timeout: int = 60
    # Seconds a request body may take to arrive (service.api.body_deadline); 0: no limit.
    body_timeout: int = 60

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ServerSettings:
        reader = _Reader(os.environ if environ is None else environ)
        defaults = cls()
        return cls(
            port=reader.integer("PORT", defaults.port, minimum=1, maximum=65_535),
            worker_class=reader.choice(
                "GUNICORN_WORKER_CLASS", defaults.worker_class, WORKER_CLASSES, upper=False
            ),
            workers=reader.integer("GUNICORN_WORKERS", defaults.workers, minimum=1),
            threads=reader.integer("GUNICORN_THREADS", defaults.threads, minimum=1),
            timeout=reader.integer("GUNICORN_TIMEOUT", defaults.timeout, minimum=1),
            body_timeout=reader.integer("GUNICORN_BODY_TIMEOUT", defaults.body_timeout, minimum=0),
        )


@dataclass(frozen=True)
class _Reader:
    env: Mapping[str, str]

    def raw(self, name: str) -> str | None:
        value = self.env.get(name)
        if value is None or not value.strip():
            return None
        return value.strip()

    def text(self, name: str, default: str) -> str:
        return self.raw(name) or default

    def secret(self, name: str) -> str | None:
        value = self.raw(name)
        if value is not None and len(value) < 16:
            raise SettingsError(f"{name} must be at least 16 characters long")
        return value

    def integer(self, name: str, default: int, *, minimum: int, maximum: int | None = None) -> int:
        value = self.raw(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise SettingsError(f"{name} must be an integer, got {value!r}") from None
        if number < minimum or (maximum is not None and number > maximum):
            bound = f"between {minimum} and {maximum}" if maximum else f"at least {minimum}"
            raise SettingsError(f"{name} must be {bound}, got {number}")
        return number

    def choice(
        self, name: str, default: str, choices: tuple[str, ...], *, upper: bool = True
    ) -> str:
        value = self.raw(name) or default
        value = value.upper() if upper else value.lower()
        if value not in choices:
            raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
        return value

    def url(self, name: str) -> str | None:
        value = self.raw(name)
        if value is None:
            return None
        parsed = urlparse(value)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise SettingsError(f"{name} must be an http(s) URL, got {value!r}")
        return value.rstrip("/")

    def content_types(self, name: str) -> tuple[str, ...]:
        value = self.raw(name)
        if value is None:
            return ACCEPTED_CONTENT_TYPES
        types = tuple(dict.fromkeys(part.strip().lower() for part in value.split(",") if part))
        unknown = [t for t in types if t not in ACCEPTED_CONTENT_TYPES]
        if not types or unknown:
            raise SettingsError(
                f"{name} must list types among {', '.join(ACCEPTED_CONTENT_TYPES)}, got {value!r}"
            )
        return types
