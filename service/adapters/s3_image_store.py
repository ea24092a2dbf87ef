"""ImageStore on S3, through an injected boto3 client."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO
from urllib.parse import quote

from botocore.exceptions import ClientError

from service.adapters.aws_errors import translate_errors
from service.adapters.s3_bucket import S3Bucket
from service.domain import rules

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef


class S3ImageStore(S3Bucket):
    def put(self, key: str, body: BinaryIO, *, content_type: str, sha256: str) -> None:
        with translate_errors("store the image"):
            self._client.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=body,
                ContentType=content_type,
                # S3 verifies the bytes it stored against the digest we computed.
                ChecksumSHA256=base64.b64encode(bytes.fromhex(sha256)).decode(),
                Metadata={"sha256": sha256},
            )

    def delete(self, key: str) -> None:
        with translate_errors("delete the image"):
            self._client.delete_object(Bucket=self._bucket, Key=key)

    def read(self, key: str) -> bytes:
        with translate_errors("read the image"):
            return self._client.get_object(Bucket=self._bucket, Key=key)["Body"].read()

    def keys_between(self, low: str, high: str) -> Iterator[str]:
        paginator = self._client.get_paginator("list_objects_v2")
        with translate_errors("list the stored images"):
            for page in paginator.paginate(
                Bucket=self._bucket, Prefix=_common_prefix(low, high), StartAfter=low
            ):
                for entry in page.get("Contents", []):
                    if entry["Key"] > high:
                        return
                    yield entry["Key"]

    def download_url(self, key: str, *, filename: str, content_type: str, expires_in: int) -> str:
        disposition = (
            f'attachment; filename="{rules.ascii_filename(filename)}"; '
            f"filename*=UTF-8''{quote(filename, safe='')}"
        )
        with translate_errors("sign a URL"):
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

    def put_once(self, key: str, data: bytes, *, content_type: str) -> bool:
        try:
            self._client.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=data,
                ContentType=content_type,
                ChecksumSHA256=base64.b64encode(hashlib.sha256(data).digest()).decode(),
                # S3 conditional write: refused (412) when the key exists, so concurrent first
                # requests store one result.
                IfNoneMatch="*",
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in ("PreconditionFailed", "ConditionalRequestConflict"):
                return False
            with translate_errors("store the rendition"):
                raise
        return True

    def object_url(self, key: str, *, expires_in: int) -> str:
        with translate_errors("sign a URL"):
            return self._presign_client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self._bucket, "Key": key},
                ExpiresIn=expires_in,
            )

    def delete_prefix(self, prefix: str) -> int:
        deleted = 0
        paginator = self._client.get_paginator("list_objects_v2")
        with translate_errors("delete the renditions"):
            for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix):
                found: list[ObjectIdentifierTypeDef] = [
                    {"Key": item["Key"]} for item in page.get("Contents", [])
                ]
                if found:  # at most 1000 a page, DeleteObjects' own limit
                    self._client.delete_objects(
                        Bucket=self._bucket, Delete={"Objects": found, "Quiet": True}
                    )
                    deleted += len(found)
        return deleted

    def prefixes(self, prefix: str, *, start_after: str, limit: int) -> list[str]:
        with translate_errors("list the renditions"):
            response = self._client.list_objects_v2(
                Bucket=self._bucket,
                Prefix=prefix,
                Delimiter="/",
                StartAfter=start_after,
                MaxKeys=limit,
            )
        return [entry["Prefix"] for entry in response.get("CommonPrefixes", [])][:limit]

    def check(self) -> None:
        with translate_errors(f"reach bucket {self._bucket}"):
            self._client.head_bucket(Bucket=self._bucket)


def _common_prefix(first: str, second: str) -> str:
    length = 0
    while length < min(len(first), len(second)) and first[length] == second[length]:
        length += 1
    return first[:length]
