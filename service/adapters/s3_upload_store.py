"""UploadStore on S3: presigned POSTs and multipart uploads under ``incoming/``.

Reads and copies of an arrived object carry its ETag as a condition (``If-Match``,
``x-amz-copy-source-if-match``): S3 answers 412 when the object is another version by then,
and that is UploadChanged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import ClientError

from service.adapters.aws_errors import translate_errors
from service.adapters.s3_bucket import S3Bucket
from service.domain.errors import UploadChanged, UploadIncomplete
from service.domain.scrub import Kept, Piece, Written
from service.domain.sessions import ObjectVersion, PresignedPost, UploadedPart
from service.ports import Readable

# S3's smallest part of a multipart upload, but for the last one.
SMALLEST_PART = 5 * 1024 * 1024
_CHUNK = 1024 * 1024
_GONE = {"NoSuchUpload", "NoSuchKey", "404"}


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


@contextmanager
def _same_version(action: str) -> Iterator[None]:
    """translate_errors, with S3's refusal of a request held to another ETag as UploadChanged."""
    try:
        yield
    except ClientError as error:
        if _code(error) in ("PreconditionFailed", "412"):
            raise UploadChanged() from error
        with translate_errors(action):
            raise


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
        self, key: str, multipart_id: str, sizes: Mapping[int, int], expires_in: int
    ) -> dict[int, str]:
        # The Content-Length is signed into the URL (SigV4): S3 refuses a part of another size.
        with translate_errors("sign the parts"):
            return {
                number: self._presign_client.generate_presigned_url(
                    "upload_part",
                    Params={
                        "Bucket": self._bucket,
                        "Key": key,
                        "UploadId": multipart_id,
                        "PartNumber": number,
                        "ContentLength": size,
                    },
                    ExpiresIn=expires_in,
                )
                for number, size in sizes.items()
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
            if code in _GONE and self.version_of(key) is not None:
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

    def version_of(self, key: str) -> ObjectVersion | None:
        try:
            head = self._client.head_object(Bucket=self._bucket, Key=key)
        except ClientError as error:
            if _code(error) in _GONE:
                return None
            with translate_errors("find the uploaded object"):
                raise
        return ObjectVersion(size=head["ContentLength"], etag=head["ETag"])

    def read(self, key: str, *, etag: str) -> bytes:
        with _same_version("read the uploaded object"):
            response = self._client.get_object(Bucket=self._bucket, Key=key, IfMatch=etag)
            return response["Body"].read()

    def read_header(self, key: str, length: int, *, etag: str) -> bytes:
        with _same_version("read the uploaded object"):
            response = self._client.get_object(
                Bucket=self._bucket, Key=key, IfMatch=etag, Range=f"bytes=0-{length - 1}"
            )
            return response["Body"].read()

    def sha256_of(self, key: str, *, etag: str) -> str:
        digest = hashlib.sha256()
        with _same_version("read the uploaded object"):
            body = self._client.get_object(Bucket=self._bucket, Key=key, IfMatch=etag)["Body"]
            for chunk in body.iter_chunks(_CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    @contextmanager
    def stream(self, key: str, *, etag: str) -> Iterator[Readable]:
        with _same_version("read the uploaded object"):
            body = self._client.get_object(Bucket=self._bucket, Key=key, IfMatch=etag)["Body"]
            try:
                yield body
            finally:
                body.close()

    def compose(
        self,
        source: str,
        destination: str,
        pieces: Sequence[Piece],
        *,
        content_type: str,
        etag: str,
    ) -> str:
        """A multipart upload of ``destination``: each kept range of SMALLEST_PART bytes or more
        is a part S3 copies from ``source`` (UploadPartCopy); new bytes and smaller ranges are
        sent, with as much of the next range as makes a part of the minimum size."""
        with _same_version("rewrite the upload"):
            multipart_id = self._client.create_multipart_upload(
                Bucket=self._bucket, Key=destination, ContentType=content_type
            )["UploadId"]
            try:
                etags = [
                    self._part(source, etag, destination, multipart_id, number, part)
                    for number, part in enumerate(parts_of(pieces), 1)
                ]
                composed = self._client.complete_multipart_upload(
                    Bucket=self._bucket,
                    Key=destination,
                    UploadId=multipart_id,
                    MultipartUpload={
                        "Parts": [
                            {"PartNumber": number, "ETag": tag}
                            for number, tag in enumerate(etags, 1)
                        ]
                    },
                )
            except BaseException:
                self.abort_multipart(destination, multipart_id)
                raise
        return str(composed["ETag"])

    def _part(
        self, source: str, etag: str, destination: str, multipart_id: str, number: int, part: Part
    ) -> str:
        if isinstance(part, Kept):
            copied = self._client.upload_part_copy(
                Bucket=self._bucket,
                Key=destination,
                UploadId=multipart_id,
                PartNumber=number,
                CopySource={"Bucket": self._bucket, "Key": source},
                CopySourceIfMatch=etag,
                CopySourceRange=f"bytes={part.start}-{part.end - 1}",
            )
            return copied["CopyPartResult"]["ETag"]
        body = b"".join(
            self._range(source, etag, piece) if isinstance(piece, Kept) else piece.data
            for piece in part
        )
        sent = self._client.upload_part(
            Bucket=self._bucket,
            Key=destination,
            UploadId=multipart_id,
            PartNumber=number,
            Body=body,
        )
        return sent["ETag"]

    def _range(self, key: str, etag: str, kept: Kept) -> bytes:
        response = self._client.get_object(
            Bucket=self._bucket, Key=key, IfMatch=etag, Range=f"bytes={kept.start}-{kept.end - 1}"
        )
        return response["Body"].read()

    def copy(
        self, source: str, destination: str, *, content_type: str, sha256: str, etag: str
    ) -> None:
        # One CopyObject: up to 5 GB, MAX_FILE_SIZE's ceiling.
        with _same_version("move the upload"):
            self._client.copy_object(
                Bucket=self._bucket,
                Key=destination,
                CopySource={"Bucket": self._bucket, "Key": source},
                CopySourceIfMatch=etag,
                MetadataDirective="REPLACE",
                ContentType=content_type,
                Metadata={"sha256": sha256},
                ChecksumAlgorithm="SHA256",
            )

    def delete(self, key: str) -> None:
        with translate_errors("delete the upload"):
            self._client.delete_object(Bucket=self._bucket, Key=key)


# A part that S3 copies (a kept range), or one that is sent (new bytes and short ranges).
Part = Kept | tuple[Piece, ...]


def parts_of(pieces: Sequence[Piece], minimum: int = SMALLEST_PART) -> list[Part]:
    """The parts of a multipart upload made of ``pieces``: every part but the last at least
    ``minimum`` bytes, as S3 requires."""
    parts: list[Part] = []
    sent: list[Piece] = []
    size = 0
    for piece in pieces:
        if isinstance(piece, Written):
            sent.append(piece)
            size += piece.size
            continue
        start, end = piece.start, piece.end
        if sent:  # made a part of the minimum size from the start of this range
            taken = min(end - start, max(0, minimum - size))
            if taken:
                sent.append(Kept(start, start + taken))
                size += taken
                start += taken
            if size >= minimum:
                parts.append(tuple(sent))
                sent, size = [], 0
        if end - start >= minimum:
            parts.append(Kept(start, end))
        elif end > start:
            sent.append(Kept(start, end))
            size += end - start
    if sent:
        parts.append(tuple(sent))
    return parts
