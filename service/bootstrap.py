"""Builds boto3 clients and adapters from Settings. The only module that knows which exist."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import boto3
from botocore.config import Config

from service.adapters.dynamodb.repository import DynamoDBImageRepository
from service.adapters.pillow_processor import PillowImageProcessor, set_process_limits
from service.adapters.s3_store import S3ImageStore
from service.cursors import CursorCodec
from service.images import ImageService, Limits
from service.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client

Client = TypeVar("Client")
# boto3's default session is not safe to create clients from concurrently: one at a time.
_CLIENT_CREATION = threading.Lock()


class LazyClient(Generic[Client]):
    """Stands for a boto3 client that is created on first use, once, whichever thread asks.

    Creating a client loads its service model and endpoint rules: tens of milliseconds each,
    which a Lambda cold start (and ``GET /health``) should not pay before a request needs S3
    or DynamoDB.
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


def build_image_service(settings: Settings) -> ImageService:
    set_process_limits(settings.max_image_pixels)
    # A second S3 client only when presigned URLs name another endpoint (docker compose).
    presign_client = None
    if settings.s3_public_endpoint_url not in (None, settings.aws_endpoint_url):
        presign_client = lazy(lambda: s3_client(settings, public=True))
    return ImageService(
        store=S3ImageStore(
            lazy(lambda: s3_client(settings)),
            settings.s3_bucket_name,
            presign_client=presign_client,
        ),
        repository=DynamoDBImageRepository(
            lazy(lambda: dynamodb_client(settings)), settings.dynamodb_table_name
        ),
        processor=PillowImageProcessor(
            max_pixels=settings.max_image_pixels, max_frames=settings.max_image_frames
        ),
        cursors=CursorCodec(settings.cursor_secret or secrets.token_urlsafe(32)),
        limits=Limits(
            max_file_size=settings.max_file_size,
            allowed_content_types=settings.allowed_content_types,
            download_url_ttl=settings.download_url_ttl,
            sweep_grace_seconds=settings.sweep_grace_seconds,
        ),
    )
