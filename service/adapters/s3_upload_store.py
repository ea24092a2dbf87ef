"""UploadStore on S3: presigned POSTs and multipart uploads under ``incoming/``."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from service.adapters.aws_errors import translate_errors
from service.adapters.s3_bucket import S3Bucket
from service.domain.errors import UploadIncomplete
from service.domain.sessions import PresignedPost, UploadedPart

if TYPE_CHECKING:
    pass

_CHUNK = 1024 * 1024
_GONE = {"NoSuchUpload", "NoSuchKey", "404"}


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class S3UploadStore(S3Bucket):
    def presigned_post(
        self, key: str, *, size: int, content_type: str, expires_in: int
    ) -> PresignedPost:
        with translate_errors("sign the upload"):
            signed: Any = self._presign_client.generate_presigned_post(
                Bucket=self._bucket,
                Key=key,
                Fields={"Content-Type": content_type},
                Conditions=[
                    {"Content-Type": content_type},
                    ["content-length-range", size, size],
                ],
                ExpiresIn=expires_in,
            )
        return PresignedPost(url=signed["url"], fields=dict(signed["fields"]))

    def start_multipart(self, key: str, *, content_type: str) -> str:
        with translate_errors("start the multipart upload"):
            response = self._client.create_multipart_upload(
                Bucket=self._bucket, Key=key, ContentType=content_type
            )
        return response["UploadId"]

    def part_urls(
        self, key: str, multipart_id: str, numbers: Sequence[int], expires_in: int
    ) -> dict[int, str]:
        with translate_errors("sign the parts"):
            return {
                number: self._presign_client.generate_presigned_url(
                    "upload_part",
                    Params={
                        "Bucket": self._bucket,
                        "Key": key,
                        "UploadId": multipart_id,
                        "PartNumber": number,
                    },
                    ExpiresIn=expires_in,
                )
                for number in numbers
            }

    def list_parts(self, key: str, multipart_id: str) -> list[UploadedPart]:
        parts: list[UploadedPart] = []
        paginator = self._client.get_paginator("list_parts")
        try:
            for page in paginator.paginate(Bucket=self._bucket, Key=key, UploadId=multipart_id):
                parts.extend(
                    UploadedPart(p["PartNumber"], p["ETag"], p["Size"])
                    for p in page.get("Parts", [])
                )
        except ClientError as error:
            if _code(error) in _GONE:
                return []
            with translate_errors("list the parts"):
                raise
        return parts

    def complete_multipart(
        self, key: str, multipart_id: str, parts: Sequence[tuple[int, str]]
    ) -> None:
        try:
            self._client.complete_multipart_upload(
                Bucket=self._bucket,
                Key=key,
                UploadId=multipart_id,
                MultipartUpload={
                    "Parts": [{"PartNumber": n, "ETag": etag} for n, etag in sorted(parts)]
                },
            )
        except ClientError as error:
            code = _code(error)
            if code in _GONE and self.size_of(key) is not None:
                return  # assembled by an earlier complete
            if code in ("InvalidPart", "InvalidPartOrder", "EntityTooSmall", "NoSuchUpload"):
                raise UploadIncomplete(
                    f"S3 refused the parts ({code}): send every part, then their ETags"
                ) from None
            with translate_errors("complete the multipart upload"):
                raise

    def abort_multipart(self, key: str, multipart_id: str) -> None:
        try:
            self._client.abort_multipart_upload(Bucket=self._bucket, Key=key, UploadId=multipart_id)
        except ClientError as error:
            if _code(error) in _GONE:
                return
            with translate_errors("abort the multipart upload"):
                raise

    def size_of(self, key: str) -> int | None:
        try:
            return self._client.head_object(Bucket=self._bucket, Key=key)["ContentLength"]
        except ClientError as error:
            if _code(error) in _GONE:
                return None
            with translate_errors("find the uploaded object"):
                raise

    def read(self, key: str) -> bytes:
        with translate_errors("read the uploaded object"):
            return self._client.get_object(Bucket=self._bucket, Key=key)["Body"].read()

    def read_header(self, key: str, length: int) -> bytes:
        with translate_errors("read the uploaded object"):
            response = self._client.get_object(
                Bucket=self._bucket, Key=key, Range=f"bytes=0-{length - 1}"
            )
            return response["Body"].read()

    def sha256_of(self, key: str) -> str:
        digest = hashlib.sha256()
        with translate_errors("read the uploaded object"):
            body = self._client.get_object(Bucket=self._bucket, Key=key)["Body"]
            for chunk in body.iter_chunks(_CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    def copy(self, source: str, destination: str, *, content_type: str, sha256: str) -> None:
        # One CopyObject: up to 5 GB, MAX_FILE_SIZE's ceiling.
        with translate_errors("move the upload"):
            self._client.copy_object(
                Bucket=self._bucket,
                Key=destination,
                CopySource={"Bucket": self._bucket, "Key": source},
                MetadataDirective="REPLACE",
                ContentType=content_type,
                Metadata={"sha256": sha256},
                ChecksumAlgorithm="SHA256",
            )

    def delete(self, key: str) -> None:
        with translate_errors("delete the upload"):
            self._client.delete_object(Bucket=self._bucket, Key=key)
