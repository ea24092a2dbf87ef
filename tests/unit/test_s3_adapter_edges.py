"""The S3 adapters' answers to S3's refusals, with botocore's Stubber in place of S3: which ones
mean "already done" or "nothing there", which are the client's fault, which are S3 failing.
moto answers few of them (tests/contract has the adapters on moto)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from service.adapters.s3_image_store import S3ImageStore
from service.adapters.s3_upload_store import S3UploadStore
from service.domain.errors import StorageUnavailable, UploadChanged, UploadIncomplete
from service.domain.scrub import Kept

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

BUCKET = "stubbed-bucket"
KEY = "incoming/01HZX3N7Q8R9S0T1V2W3X4Y5Z6"
MULTIPART = "multipart-1"
PARTS = [(2, '"etag-2"'), (1, '"etag-1"')]


@pytest.fixture
def s3() -> Iterator[tuple[S3Client, Stubber]]:
    client = boto3.client(
        "s3",
        region_name="us-east-1",
        aws_access_key_id="stub",
        aws_secret_access_key="stub",  # never sent: the Stubber answers
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def uploads(s3: tuple[S3Client, Stubber]) -> S3UploadStore:
    return S3UploadStore(s3[0], BUCKET)


def refuse(stubber: Stubber, operation: str, code: str, status: int = 400) -> None:
    stubber.add_client_error(operation, service_error_code=code, http_status_code=status)


def completion() -> dict[str, Any]:
    return {
        "Bucket": BUCKET,
        "Key": KEY,
        "UploadId": MULTIPART,
        "MultipartUpload": {
            "Parts": [{"PartNumber": 1, "ETag": '"etag-1"'}, {"PartNumber": 2, "ETag": '"etag-2"'}]
        },
    }


# --- completing a multipart upload ---------------------------------------------------------------


def test_parts_are_completed_in_part_number_order(s3: tuple[S3Client, Stubber]) -> None:
    s3[1].add_response("complete_multipart_upload", {}, completion())

    uploads(s3).complete_multipart(KEY, MULTIPART, PARTS)


def test_a_second_complete_of_an_assembled_upload_succeeds(s3: tuple[S3Client, Stubber]) -> None:
    # The first complete assembled the object, but its answer was lost: the client retries.
    refuse(s3[1], "complete_multipart_upload", "NoSuchUpload", 404)
    head = {"ContentLength": 12, "ETag": '"assembled"'}
    s3[1].add_response("head_object", head, {"Bucket": BUCKET, "Key": KEY})

    uploads(s3).complete_multipart(KEY, MULTIPART, PARTS)


@pytest.mark.parametrize("code", ["InvalidPart", "InvalidPartOrder", "EntityTooSmall"])
def test_parts_s3_refuses_are_the_clients_to_send_again(
    s3: tuple[S3Client, Stubber], code: str
) -> None:
    refuse(s3[1], "complete_multipart_upload", code)

    with pytest.raises(UploadIncomplete, match=code):
        uploads(s3).complete_multipart(KEY, MULTIPART, PARTS)


def test_an_upload_gone_without_its_object_is_incomplete(s3: tuple[S3Client, Stubber]) -> None:
    refuse(s3[1], "complete_multipart_upload", "NoSuchUpload", 404)
    refuse(s3[1], "head_object", "404", 404)

    with pytest.raises(UploadIncomplete, match="NoSuchUpload"):
        uploads(s3).complete_multipart(KEY, MULTIPART, PARTS)


def test_s3_failing_to_complete_is_storage_unavailable(s3: tuple[S3Client, Stubber]) -> None:
    refuse(s3[1], "complete_multipart_upload", "InternalError", 500)

    with pytest.raises(StorageUnavailable, match="complete the multipart upload"):
        uploads(s3).complete_multipart(KEY, MULTIPART, PARTS)


# --- listing, aborting, finding ------------------------------------------------------------------


def test_the_parts_of_an_upload_s3_no_longer_has_are_none(s3: tuple[S3Client, Stubber]) -> None:
    refuse(s3[1], "list_parts", "NoSuchUpload", 404)

    assert uploads(s3).list_parts(KEY, MULTIPART) == []


def test_parts_are_listed_across_pages(s3: tuple[S3Client, Stubber]) -> None:
    first = {
        "Parts": [{"PartNumber": 1, "ETag": '"a"', "Size": 5}],
        "IsTruncated": True,
        "NextPartNumberMarker": 1,
    }
    second = {"Parts": [{"PartNumber": 2, "ETag": '"b"', "Size": 3}], "IsTruncated": False}
    s3[1].add_response("list_parts", first, {"Bucket": BUCKET, "Key": KEY, "UploadId": MULTIPART})
    s3[1].add_response("list_parts", second, ANY_PAGE)

    listed = uploads(s3).list_parts(KEY, MULTIPART)

    assert [(p.number, p.etag, p.size) for p in listed] == [(1, '"a"', 5), (2, '"b"', 3)]


ANY_PAGE = {"Bucket": BUCKET, "Key": KEY, "UploadId": MULTIPART, "PartNumberMarker": ANY}


def test_listing_parts_when_s3_fails_is_storage_unavailable(s3: tuple[S3Client, Stubber]) -> None:
    refuse(s3[1], "list_parts", "SlowDown", 503)

    with pytest.raises(StorageUnavailable, match="list the parts"):
        uploads(s3).list_parts(KEY, MULTIPART)


def test_aborting_an_upload_already_gone_is_done(s3: tuple[S3Client, Stubber]) -> None:
    refuse(s3[1], "abort_multipart_upload", "NoSuchUpload", 404)

    uploads(s3).abort_multipart(KEY, MULTIPART)


def test_aborting_when_s3_fails_is_storage_unavailable(s3: tuple[S3Client, Stubber]) -> None:
    refuse(s3[1], "abort_multipart_upload", "AccessDenied", 403)

    with pytest.raises(StorageUnavailable, match="abort the multipart upload"):
        uploads(s3).abort_multipart(KEY, MULTIPART)


def test_the_version_of_a_missing_object_is_none(s3: tuple[S3Client, Stubber]) -> None:
    refuse(s3[1], "head_object", "404", 404)

    assert uploads(s3).version_of(KEY) is None


def test_the_version_when_s3_fails_is_storage_unavailable(s3: tuple[S3Client, Stubber]) -> None:
    refuse(s3[1], "head_object", "403", 403)

    with pytest.raises(StorageUnavailable, match="find the uploaded object"):
        uploads(s3).version_of(KEY)


# --- an arrived object: every read and copy held to the version first found ----------------------

SEEN = '"seen-etag"'
SOURCE = {"Bucket": BUCKET, "Key": KEY}


def test_reads_ask_for_the_version_seen_and_another_is_upload_changed(
    s3: tuple[S3Client, Stubber],
) -> None:
    read = {"Bucket": BUCKET, "Key": KEY, "IfMatch": SEEN}
    s3[1].add_client_error(
        "get_object", "PreconditionFailed", http_status_code=412, expected_params=read
    )
    ranged = read | {"Range": "bytes=0-9"}
    s3[1].add_client_error(
        "get_object", "PreconditionFailed", http_status_code=412, expected_params=ranged
    )

    with pytest.raises(UploadChanged):
        uploads(s3).read(KEY, etag=SEEN)
    with pytest.raises(UploadChanged):
        uploads(s3).read_header(KEY, 10, etag=SEEN)


def test_a_copy_asks_for_the_version_checked_and_another_is_upload_changed(
    s3: tuple[S3Client, Stubber],
) -> None:
    copy = {
        "Bucket": BUCKET,
        "Key": "originals/x",
        "CopySource": SOURCE,
        "CopySourceIfMatch": SEEN,
        "MetadataDirective": "REPLACE",
        "ContentType": "image/png",
        "Metadata": {"sha256": "0" * 64},
        "ChecksumAlgorithm": "SHA256",
    }
    s3[1].add_client_error(
        "copy_object", "PreconditionFailed", http_status_code=412, expected_params=copy
    )

    with pytest.raises(UploadChanged):
        uploads(s3).copy(KEY, "originals/x", content_type="image/png", sha256="0" * 64, etag=SEEN)


def test_a_rewrite_copies_ranges_of_the_version_checked_and_stops_at_another(
    s3: tuple[S3Client, Stubber],
) -> None:
    destination = f"{KEY}.without-location"
    s3[1].add_response(
        "create_multipart_upload",
        {"UploadId": "rewrite-1"},
        {"Bucket": BUCKET, "Key": destination, "ContentType": "image/png"},
    )
    part_copy = {
        "Bucket": BUCKET,
        "Key": destination,
        "UploadId": "rewrite-1",
        "PartNumber": 1,
        "CopySource": SOURCE,
        "CopySourceIfMatch": SEEN,
        "CopySourceRange": f"bytes=0-{6 * 1024 * 1024 - 1}",
    }
    s3[1].add_client_error(
        "upload_part_copy", "PreconditionFailed", http_status_code=412, expected_params=part_copy
    )
    s3[1].add_response(
        "abort_multipart_upload",
        {},
        {"Bucket": BUCKET, "Key": destination, "UploadId": "rewrite-1"},
    )

    with pytest.raises(UploadChanged):
        uploads(s3).compose(
            KEY, destination, [Kept(0, 6 * 1024 * 1024)], content_type="image/png", etag=SEEN
        )


# --- renditions: written once ---------------------------------------------------------------------


@pytest.mark.parametrize("code", ["PreconditionFailed", "ConditionalRequestConflict"])
def test_a_rendition_another_request_stored_first_is_not_written_again(
    s3: tuple[S3Client, Stubber], code: str
) -> None:
    refuse(s3[1], "put_object", code, 412 if code == "PreconditionFailed" else 409)

    stored = S3ImageStore(s3[0], BUCKET).put_once("renditions/x/256.jpeg", b"jpeg", content_type="")

    assert stored is False


def test_a_rendition_s3_fails_to_store_is_storage_unavailable(
    s3: tuple[S3Client, Stubber],
) -> None:
    refuse(s3[1], "put_object", "InternalError", 500)

    with pytest.raises(StorageUnavailable, match="store the rendition"):
        S3ImageStore(s3[0], BUCKET).put_once("renditions/x/256.jpeg", b"jpeg", content_type="")
