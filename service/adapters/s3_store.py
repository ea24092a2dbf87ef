"""ImageStore on S3, through an injected boto3 client."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, BinaryIO
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError

from service import rules
from service.errors import StorageUnavailable

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class S3ImageStore:
    def __init__(
        self, client: S3Client, bucket: str, *, presign_client: S3Client | None = None
    ) -> None:
        self._client = client
        self._bucket = bucket
        # Presigned URLs are signed for the endpoint the *client* will use, which can differ
        # from the one this process reaches S3 on (docker compose: localstack vs localhost).
        self._presign_client = presign_client or client

    def put(self, key: str, body: BinaryIO, *, content_type: str, sha256: str) -> None:
        try:
            self._client.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=body,
                ContentType=content_type,
                # S3 verifies the bytes it stored against the digest we computed.
                ChecksumSHA256=base64.b64encode(bytes.fromhex(sha256)).decode(),
                Metadata={"sha256": sha256},
            )
        except (ClientError, BotoCoreError) as error:
            raise StorageUnavailable(f"Could not store the image ({_reason(error)})") from error

    def delete(self, key: str) -> None:
        try:
            self._client.delete_object(Bucket=self._bucket, Key=key)
        except (ClientError, BotoCoreError) as error:
            raise StorageUnavailable(f"Could not delete the image ({_reason(error)})") from error

    def read(self, key: str) -> bytes:
        try:
            return self._client.get_object(Bucket=self._bucket, Key=key)["Body"].read()
        except (ClientError, BotoCoreError) as error:
            raise StorageUnavailable(f"Could not read the image ({_reason(error)})") from error

    def download_url(self, key: str, *, filename: str, content_type: str, expires_in: int) -> str:
        disposition = (
            f'attachment; filename="{rules.ascii_filename(filename)}"; '
            f"filename*=UTF-8''{quote(filename, safe='')}"
        )
        try:
            return self._presign_client.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self._bucket,
                    "Key": key,
                    "ResponseContentDisposition": disposition,
                    "ResponseContentType": content_type,
                },
                ExpiresIn=expires_in,
            )
        except (ClientError, BotoCoreError) as error:
            raise StorageUnavailable(f"Could not sign a URL ({_reason(error)})") from error

    def check(self) -> None:
        try:
            self._client.head_bucket(Bucket=self._bucket)
        except (ClientError, BotoCoreError) as error:
            raise StorageUnavailable(f"Bucket {self._bucket} unavailable") from error


def _reason(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", "ClientError"))
    return type(error).__name__
