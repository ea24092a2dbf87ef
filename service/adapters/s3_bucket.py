"""What the S3 adapters share: one bucket, reached through an injected boto3 client."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class S3Bucket:
    def __init__(
        self, client: S3Client, bucket: str, *, presign_client: S3Client | None = None
    ) -> None:
        self._client = client
        self._bucket = bucket
        # Presigned URLs are signed for the endpoint the *client* will use, which can differ
        # from the one this process reaches S3 on (docker compose: localstack vs localhost).
        self._presign_client = presign_client or client
