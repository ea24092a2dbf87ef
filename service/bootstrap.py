"""Builds boto3 clients and adapters from Settings. The only module that knows which exist."""

from __future__ import annotations

import functools
import secrets
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import boto3
from botocore.config import Config

from service.adapters.cognito_sign_in import CognitoSignIn
from service.adapters.decode_slots import DecodeSlots
from service.adapters.dynamodb.idempotency_store import DynamoDBIdempotencyStore
from service.adapters.dynamodb.image_repository import DynamoDBImageRepository
from service.adapters.dynamodb.session_repository import DynamoDBUploadSessions
from service.adapters.jwt_verifier import JwtVerifier
from service.adapters.s3_image_store import S3ImageStore
from service.adapters.s3_upload_store import S3UploadStore
from service.adapters.sqs_jobs import SqsJobQueue
from service.domain.access import AccessPolicy
from service.domain.cursors import CursorCodec
from service.ports import TokenVerifier
from service.settings import Settings, SettingsError
from service.usecases.images import ImageService
from service.usecases.limits import Limits
from service.usecases.processing import JobProcessor
from service.usecases.sign_in import SignInService
from service.usecases.upload_sessions import UploadLimits, UploadService

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

    from service.adapters.pillow_processor import PillowImageProcessor

Client = TypeVar("Client")
# boto3's default session is not safe to create clients from concurrently: one at a time.
_CLIENT_CREATION = threading.Lock()


class LazyClient(Generic[Client]):
    """Stands for a client that is created on first use, once, whichever thread asks: a boto3
    client, or the Pillow processor.

    Creating a boto3 client loads its service model and endpoint rules, and the processor
    imports Pillow: tens of milliseconds each, which a Lambda cold start (and ``GET /health``)
    should not pay before a request needs S3, DynamoDB or image bytes.
    """

    def __init__(self, factory: Callable[[], Client]) -> None:
        self._factory = factory
        self._client: Client | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.resolve(), name)

    def resolve(self) -> Client:
        client = self._client
        if client is None:
            with _CLIENT_CREATION:
                if self._client is None:
                    self._client = self._factory()
                client = self._client
        return client

    @property
    def created(self) -> bool:
        return self._client is not None


def lazy(factory: Callable[[], Client]) -> Client:
    """``factory()``'s client, created when first used (see :class:`LazyClient`)."""
    return cast(Client, LazyClient(factory))


def _config(settings: Settings, endpoint: str | None) -> Config:
    # Emulators (LocalStack, moto) answer on one host name: path-style bucket addressing.
    s3_options: Any = {"addressing_style": "path"} if endpoint else {}
    return Config(
        region_name=settings.aws_default_region,
        signature_version="s3v4",
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=5,
        read_timeout=30,
        s3=s3_options,
    )


def s3_client(settings: Settings, *, public: bool = False) -> S3Client:
    endpoint = settings.aws_endpoint_url
    if public and settings.s3_public_endpoint_url:
        endpoint = settings.s3_public_endpoint_url
    return boto3.client("s3", endpoint_url=endpoint, config=_config(settings, endpoint))


def dynamodb_client(settings: Settings) -> DynamoDBClient:
    endpoint = settings.aws_endpoint_url
    return boto3.client("dynamodb", endpoint_url=endpoint, config=_config(settings, endpoint))


def sqs_client(settings: Settings) -> SQSClient:
    endpoint = settings.aws_endpoint_url
    return boto3.client("sqs", endpoint_url=endpoint, config=_config(settings, endpoint))


@functools.cache
def build_job_queue(settings: Settings) -> SqsJobQueue:
    """One per process and settings: the queue's URL and redrive policy are asked once."""
    return SqsJobQueue(lazy(lambda: sqs_client(settings)), settings.jobs_queue_name)


def cognito_client(settings: Settings) -> CognitoIdentityProviderClient:
    endpoint = settings.cognito_endpoint_url or settings.aws_endpoint_url
    return boto3.client("cognito-idp", endpoint_url=endpoint, config=_config(settings, endpoint))


def build_token_verifier(settings: Settings) -> JwtVerifier:
    if settings.auth_issuer is None or settings.jwks_url is None or not settings.auth_client_ids:
        raise SettingsError(
            "AUTH_MODE=jwt needs AUTH_ISSUER and AUTH_CLIENT_IDS "
            "(AUTH_MODE=none serves without sign-in: local use only)"
        )
    return JwtVerifier(
        issuer=settings.auth_issuer,
        jwks_url=settings.jwks_url,
        client_ids=settings.auth_client_ids,
        token_use=settings.auth_token_use,
        user_claim=settings.auth_user_claim,
    )


def build_sign_in(settings: Settings, verifier: TokenVerifier) -> SignInService:
    """The gallery's sign-in, through the first of AUTH_CLIENT_IDS (a public app client)."""
    if not settings.auth_client_ids:
        raise SettingsError("AUTH_MODE=jwt needs AUTH_CLIENT_IDS")
    return SignInService(
        CognitoSignIn(lazy(lambda: cognito_client(settings)), settings.auth_client_ids[0]),
        verifier,
        token_use=settings.auth_token_use,
    )


def build_idempotency_store(settings: Settings) -> DynamoDBIdempotencyStore:
    return DynamoDBIdempotencyStore(*_table(settings))


def build_upload_service(settings: Settings, images: ImageService) -> UploadService:
    """Upload sessions, publishing through ``images``' publisher."""
    return UploadService(
        publisher=images.publisher,
        store=_upload_store(settings),
        sessions=DynamoDBUploadSessions(*_table(settings)),
        jobs=build_job_queue(settings),
        limits=upload_limits(settings),
        access=_access_policy(settings),
    )


def build_job_processor(settings: Settings) -> JobProcessor:
    """The worker's use case: publishing like the API's, but decoding one image at a time
    within the worker's own budget."""
    worker = ImageService(
        store=S3ImageStore(*_bucket(settings)),
        repository=DynamoDBImageRepository(*_table(settings)),
        processor=lazy(lambda: _pillow_processor(settings, _decode_slots(1, 0), worker=True)),
        cursors=CursorCodec(secrets.token_urlsafe(32)),
        limits=image_limits(settings),
        jobs=build_job_queue(settings),
        dedupe=settings.dedupe == "per-user",
    )
    return JobProcessor(
        publisher=worker.publisher,
        store=_upload_store(settings),
        sessions=DynamoDBUploadSessions(*_table(settings)),
        # Well inside the sweep's grace: see JobProcessor.
        fresh_id_seconds=settings.sweep_grace_seconds // 2,
    )


def _upload_store(settings: Settings) -> S3UploadStore:
    return S3UploadStore(*_bucket(settings), presign_client=_presign_client(settings))


def _presign_client(settings: Settings) -> S3Client | None:
    """A second S3 client only when presigned URLs name another endpoint than the one this
    process reaches S3 on (docker compose)."""
    if settings.s3_public_endpoint_url in (None, settings.aws_endpoint_url):
        return None
    return lazy(lambda: s3_client(settings, public=True))


def _processor(settings: Settings) -> PillowImageProcessor:
    slots = _decode_slots(settings.max_concurrent_decodes, settings.decode_wait_seconds)
    return lazy(lambda: _pillow_processor(settings, slots))


def _pillow_processor(
    settings: Settings, slots: DecodeSlots, *, worker: bool = False
) -> PillowImageProcessor:
    """Imports Pillow, and sets its process-wide limits before anything is decoded: the
    larger of the API's and the worker's, which share a process under ``make run`` (each
    processor holds decodes to its own)."""
    from service.adapters.pillow_processor import PillowImageProcessor, set_process_limits

    set_process_limits(max(settings.max_image_pixels, settings.worker_max_image_pixels))
    if worker:
        return PillowImageProcessor(
            max_pixels=settings.worker_max_image_pixels,
            max_frames=settings.max_image_frames,
            max_decoded_bytes=settings.worker_max_decoded_bytes,
            max_lossless_decoded_bytes=settings.worker_max_decoded_bytes,
            decode_slots=slots,
        )
    return PillowImageProcessor(
        max_pixels=settings.max_image_pixels,
        max_frames=settings.max_image_frames,
        max_decoded_bytes=settings.max_decoded_bytes,
        max_lossless_decoded_bytes=settings.max_lossless_decoded_bytes,
        decode_slots=slots,
    )


def preload_libraries() -> None:
    """Import now what the first requests would otherwise import (Pillow, PyJWT): for gunicorn,
    whose master loads the app once and forks its workers, which then share those pages and
    have nothing left to import. A Lambda cold start does not call it."""
    import jwt  # noqa: F401

    import service.adapters.pillow_processor  # noqa: F401


@functools.cache
def _decode_slots(count: int, wait_seconds: float) -> DecodeSlots:
    """One set of slots for the process: every processor's decodes, on every thread, share it."""
    return DecodeSlots(count, wait_seconds)


def build_image_service(settings: Settings) -> ImageService:
    return ImageService(
        store=S3ImageStore(*_bucket(settings), presign_client=_presign_client(settings)),
        repository=DynamoDBImageRepository(*_table(settings)),
        processor=_processor(settings),
        cursors=CursorCodec(settings.cursor_secret or secrets.token_urlsafe(32)),
        limits=image_limits(settings),
        jobs=build_job_queue(settings),
        access=_access_policy(settings),
        dedupe=settings.dedupe == "per-user",
    )


def image_limits(settings: Settings) -> Limits:
    return Limits(
        max_file_size=settings.max_file_size,
        allowed_content_types=settings.allowed_content_types,
        download_url_ttl=settings.download_url_ttl,
        sweep_grace_seconds=settings.sweep_grace_seconds,
        rendition_sizes=settings.rendition_sizes,
        # Served only if the processor can also encode them (AVIF may be missing).
        rendition_formats=settings.rendition_formats,
        strip_gps=settings.strip_gps,
        gps_precision=settings.gps_precision,
        thumbnail_url_ttl=settings.thumbnail_url_ttl,
    )


def upload_limits(settings: Settings) -> UploadLimits:
    return UploadLimits(
        max_file_size=settings.max_file_size,
        multipart_threshold=settings.multipart_threshold,
        session_ttl=settings.upload_session_ttl,
    )


def _bucket(settings: Settings) -> tuple[S3Client, str]:
    return lazy(lambda: s3_client(settings)), settings.s3_bucket_name


def _table(settings: Settings) -> tuple[DynamoDBClient, str]:
    return lazy(lambda: dynamodb_client(settings)), settings.dynamodb_table_name


def _access_policy(settings: Settings) -> AccessPolicy:
    return AccessPolicy(admin_group=settings.admin_group, public_read=settings.public_read)
