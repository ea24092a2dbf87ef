"""Runtime settings: the only module that reads ``os.environ``.

Names are those of the original API contract (``S3_BUCKET_NAME``, ``DYNAMODB_TABLE_NAME``, ...).
A bad value fails at start-up with a message that names the setting.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from service.domain.model import ACCEPTED_CONTENT_TYPES, RENDITION_FORMATS
from service.settings_reader import EnvironmentReader
from service.settings_reader import SettingsError as SettingsError  # raised by from_env

# A synchronous Lambda event is capped at 6 MB and carries the body base64-encoded.
LAMBDA_MAX_REQUEST_BODY = 4_500_000
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# gunicorn's threaded and synchronous workers; the async ones need packages the image lacks.
WORKER_CLASSES = ("gthread", "sync")
AUTH_MODES = ("jwt", "none")
TOKEN_USES = ("access", "id")
# A presigned URL dies with the session of the credentials that signed it, and a role session
# (Lambda, ECS) lasts 12 hours at most: a longer TTL would promise what the URL cannot keep.
MAX_URL_TTL = 43_200
# One CopyObject (how a finished upload moves to originals/) takes 5 GB at most.
MAX_FILE_SIZE_LIMIT = 5 * 1024**3
DEDUPE_MODES = ("per-user", "off")
MAX_GPS_PRECISION = 6


@dataclass(frozen=True)
class Settings:
    """The service's settings; ``from_env`` reads them from the environment."""

    s3_bucket_name: str = "image-storage-bucket"
    dynamodb_table_name: str = "images"
    # Uploads through sessions; POST /images takes max_direct_upload_size at most.
    max_file_size: int = 256 * 1024 * 1024
    max_direct_upload_size: int = 16 * 1024 * 1024
    allowed_content_types: tuple[str, ...] = ACCEPTED_CONTENT_TYPES
    aws_endpoint_url: str | None = None
    # Endpoint written into presigned URLs. Inside docker compose the service reaches S3 as
    # http://localstack:4566, which the user's browser cannot resolve.
    s3_public_endpoint_url: str | None = None
    aws_default_region: str = "us-east-1"
    log_level: str = "INFO"
    max_image_pixels: int = 50_000_000
    max_image_frames: int = 200
    # Decoding memory (docs/operations.md). A process decodes at most max_concurrent_decodes
    # images at a time; other requests wait up to decode_wait_seconds, then get a 503 with
    # Retry-After. A decode is refused from the header when it would hold more than its budget:
    # max_decoded_bytes (JPEG at its draft scale, lossy WebP) or max_lossless_decoded_bytes
    # (PNG, GIF, lossless WebP, which a few KB can fill). Sized for the ECS task (1 GiB = 1074
    # MB, 2 workers x 8 threads): ~350 MB idle, then 2 workers x 2 decodes, each peaking at
    # about 1.05x its budget (WebP, JPEG: 128 MiB -> ~140 MB) or 2.1x (an RGBA PNG thumbnail
    # resizes a premultiplied copy: 64 MiB -> ~140 MB): 4 x 140 = 560 MB, leaving ~150 MB for
    # request bodies and originals read from S3.
    max_concurrent_decodes: int = 2
    decode_wait_seconds: int = 10
    max_decoded_bytes: int = 128 * 1024 * 1024
    max_lossless_decoded_bytes: int = 64 * 1024 * 1024
    download_url_ttl: int = 900
    sweep_grace_seconds: int = 900
    # Signs pagination cursors. Every process serving the same API must share it; None means
    # a random secret per process, which is only right for a single process.
    cursor_secret: str | None = field(default=None, repr=False)
    # Largest request body the runtime can hand us; in Lambda it defaults to
    # LAMBDA_MAX_REQUEST_BODY so an oversize upload gets a 413 that says the limit.
    max_request_body: int | None = None
    # Sign-in. "jwt": bearer tokens of the issuer below; "none": the unauthenticated contract
    # (the client names the user and may change anything), for local use only.
    auth_mode: str = "jwt"
    auth_issuer: str | None = None
    auth_jwks_url: str | None = None  # default: the issuer's /.well-known/jwks.json
    auth_client_ids: tuple[str, ...] = ()
    auth_token_use: str = "access"  # noqa: S105 - Cognito access tokens; "id" for ID tokens
    auth_user_claim: str = "username"
    admin_group: str = "admins"
    public_read: bool = False
    # Where the Cognito API is, when it is not where S3 and DynamoDB are (docker compose:
    # LocalStack's community edition has none, moto's server stands in). Emulator tooling only.
    cognito_endpoint_url: str | None = None
    # The worker's jobs queue (its dead letters are named by the queue's redrive policy), how
    # long one receive waits for a job, and the decode budget of the worker, which decodes one
    # image at a time and is sized for its own memory (Terraform sets both from it).
    jobs_queue_name: str = "mpycloud-jobs"
    worker_wait_seconds: int = 20
    worker_max_image_pixels: int = 120_000_000
    worker_max_decoded_bytes: int = 512 * 1024 * 1024
    # Upload sessions (POST /uploads): a presigned POST up to the threshold, multipart above.
    multipart_threshold: int = 16 * 1024 * 1024
    upload_session_ttl: int = 3600
    dedupe: str = "per-user"
    # Renditions: longest sides, formats beyond JPEG (the fallback, always made), and how long
    # a thumbnail URL lives. The worker stores the smallest one of every upload.
    rendition_sizes: tuple[int, ...] = (256, 1024)
    rendition_formats: tuple[str, ...] = RENDITION_FORMATS
    thumbnail_url_ttl: int = 900
    # GPS: removed from stored originals; the owner sees the position rounded to this many
    # decimals (2: about 1 km).
    strip_gps: bool = True
    gps_precision: int = 2

    @property
    def jwks_url(self) -> str | None:
        if self.auth_jwks_url or not self.auth_issuer:
            return self.auth_jwks_url
        return f"{self.auth_issuer}/.well-known/jwks.json"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        reader = EnvironmentReader(env)
        defaults = cls()
        settings = cls(
            s3_bucket_name=reader.text("S3_BUCKET_NAME", defaults.s3_bucket_name),
            dynamodb_table_name=reader.text("DYNAMODB_TABLE_NAME", defaults.dynamodb_table_name),
            max_file_size=reader.integer(
                "MAX_FILE_SIZE", defaults.max_file_size, minimum=1, maximum=MAX_FILE_SIZE_LIMIT
            ),
            max_direct_upload_size=reader.integer(
                "MAX_DIRECT_UPLOAD_SIZE",
                defaults.max_direct_upload_size,
                minimum=1,
                maximum=MAX_FILE_SIZE_LIMIT,
            ),
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
            max_concurrent_decodes=reader.integer(
                "MAX_CONCURRENT_DECODES", defaults.max_concurrent_decodes, minimum=1
            ),
            decode_wait_seconds=reader.integer(
                "DECODE_WAIT_SECONDS", defaults.decode_wait_seconds, minimum=0, maximum=60
            ),
            max_decoded_bytes=reader.integer(
                "MAX_DECODED_BYTES", defaults.max_decoded_bytes, minimum=1
            ),
            max_lossless_decoded_bytes=reader.integer(
                "MAX_LOSSLESS_DECODED_BYTES", defaults.max_lossless_decoded_bytes, minimum=1
            ),
            download_url_ttl=reader.integer(
                "DOWNLOAD_URL_TTL", defaults.download_url_ttl, minimum=1, maximum=MAX_URL_TTL
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
            auth_mode=reader.choice("AUTH_MODE", defaults.auth_mode, AUTH_MODES, upper=False),
            auth_issuer=reader.url("AUTH_ISSUER"),
            auth_jwks_url=reader.url("AUTH_JWKS_URL"),
            auth_client_ids=reader.names("AUTH_CLIENT_IDS"),
            auth_token_use=reader.choice(
                "AUTH_TOKEN_USE", defaults.auth_token_use, TOKEN_USES, upper=False
            ),
            auth_user_claim=reader.text("AUTH_USER_CLAIM", defaults.auth_user_claim),
            admin_group=reader.text("ADMIN_GROUP", defaults.admin_group),
            public_read=reader.boolean("PUBLIC_READ", defaults.public_read),
            cognito_endpoint_url=reader.url("COGNITO_ENDPOINT_URL"),
            jobs_queue_name=reader.text("JOBS_QUEUE_NAME", defaults.jobs_queue_name),
            worker_wait_seconds=reader.integer(
                "WORKER_WAIT_SECONDS", defaults.worker_wait_seconds, minimum=0, maximum=20
            ),
            worker_max_image_pixels=reader.integer(
                "WORKER_MAX_IMAGE_PIXELS", defaults.worker_max_image_pixels, minimum=1
            ),
            worker_max_decoded_bytes=reader.integer(
                "WORKER_MAX_DECODED_BYTES", defaults.worker_max_decoded_bytes, minimum=1
            ),
            multipart_threshold=reader.integer(
                "MULTIPART_THRESHOLD",
                defaults.multipart_threshold,
                minimum=5 * 1024 * 1024,
                maximum=MAX_FILE_SIZE_LIMIT,
            ),
            upload_session_ttl=reader.integer(
                "UPLOAD_SESSION_TTL", defaults.upload_session_ttl, minimum=60, maximum=MAX_URL_TTL
            ),
            dedupe=reader.choice("DEDUPE", defaults.dedupe, DEDUPE_MODES, upper=False),
            rendition_sizes=reader.sizes("RENDITION_SIZES", defaults.rendition_sizes),
            rendition_formats=reader.formats("RENDITION_FORMATS", defaults.rendition_formats),
            thumbnail_url_ttl=reader.integer(
                "THUMBNAIL_URL_TTL",
                defaults.thumbnail_url_ttl,
                minimum=120,
                maximum=MAX_URL_TTL,
            ),
            strip_gps=reader.boolean("STRIP_GPS", defaults.strip_gps),
            gps_precision=reader.integer(
                "GPS_PRECISION", defaults.gps_precision, minimum=0, maximum=MAX_GPS_PRECISION
            ),
        )
        return settings


@dataclass(frozen=True)
class ServerSettings:
    """gunicorn's settings in the container image (``service/entrypoints/gunicorn_conf.py``)."""

    port: int = 8000
    worker_class: str = "gthread"
    workers: int = 2
    threads: int = 8
    timeout: int = 60
    # Seconds a request body may take to arrive (service.entrypoints.api.body_deadline);
    # 0: no limit.
    body_timeout: int = 60

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ServerSettings:
        reader = EnvironmentReader(os.environ if environ is None else environ)
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
