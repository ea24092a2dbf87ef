"""What S3 itself enforces for upload sessions, on LocalStack (moto checks neither signatures
nor copy conditions, so these tests skip on it): a part URL takes a part of exactly the size
signed into it, and the upload store's reads and copies of an arrived object refuse another
version of it than the one checked."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest
import requests
from botocore.config import Config

from service.adapters.s3_upload_store import S3UploadStore
from service.domain.errors import UploadChanged
from service.domain.scrub import Kept, Piece, Written
from tests.containers.harness import REGION, Emulator
from tests.containers.sessions import wait_ready
from tests.support.images import png_of_size

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

pytestmark = [pytest.mark.containers, pytest.mark.xdist_group("containers")]
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def s3(aws_emulator: Emulator) -> Iterator[S3Client]:
    """A client of the emulator's S3, with a bucket of this module's own."""
    if aws_emulator.kind != "localstack":
        pytest.skip("moto checks neither the Content-Length signed into a URL nor copy conditions")
    client: Any = boto3.client(
        "s3",
        endpoint_url=aws_emulator.host_url,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        # As the service signs (service/bootstrap.py): SigV4, which signs headers into a URL.
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    client.create_bucket(Bucket=BUCKET)
    yield client
    for listed in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for item in listed.get("Contents", []):
            client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)
    client.close()


BUCKET = f"integrity-{uuid.uuid4().hex[:8]}"


def a_key() -> str:
    return f"incoming/{uuid.uuid4().hex}"


def put(url: str, data: bytes) -> int:
    return requests.put(url, data=data, timeout=120).status_code


def test_s3_takes_a_part_of_the_size_signed_into_its_url_and_no_other(s3: S3Client) -> None:
    store, key = S3UploadStore(s3, BUCKET), a_key()
    multipart_id = store.start_multipart(key, content_type="image/png")
    data = png_of_size(8 * MIB + 3 * MIB)
    urls = store.part_urls(key, multipart_id, {1: 8 * MIB, 2: 3 * MIB}, 600)

    # A part of any other size, larger or smaller, is refused by S3 itself.
    assert put(urls[1], bytes(40 * MIB)) in (400, 403)
    assert put(urls[1], data[: 8 * MIB - 1]) in (400, 403)
    assert put(urls[2], data[: 8 * MIB]) in (400, 403)  # the last part: its own, smaller size
    assert store.list_parts(key, multipart_id) == []

    # The sizes signed are taken.
    sent = [requests.put(urls[1], data=data[: 8 * MIB], timeout=120)]
    sent.append(requests.put(urls[2], data=data[8 * MIB :], timeout=120))
    assert [response.status_code for response in sent] == [200, 200]
    etags = [(n, response.headers["ETag"]) for n, response in enumerate(sent, 1)]
    store.complete_multipart(key, multipart_id, etags)
    version = store.version_of(key)
    assert version is not None
    assert version.size == len(data)


def test_the_service_signs_each_part_for_its_size_and_s3_holds_the_client_to_it(
    service_url: str, aws_resources: Emulator
) -> None:
    if aws_resources.kind != "localstack":
        pytest.skip("moto does not check the Content-Length signed into a URL")
    data = png_of_size(20 * MIB + 5)  # parts of 8 MiB, 8 MiB and 4 MiB + 5 bytes
    body = {"filename": "big.png", "content_type": "image/png", "size": len(data)}
    opened = requests.post(f"{service_url}/uploads", json=body | {"user_id": "sizes"}, timeout=30)
    assert opened.status_code == 201, opened.text
    ticket = opened.json()
    upload_id, size = ticket["upload_id"], ticket["part_size"]
    urls = {part["part_number"]: part["url"] for part in ticket["parts"]}
    assert (size, sorted(urls)) == (8 * MIB, [1, 2, 3])

    assert put(urls[1], bytes(40 * MIB)) in (400, 403)
    assert put(urls[3], data[:size]) in (400, 403)  # the last part is the rest, not part_size

    etags = []
    for number, url in sorted(urls.items()):
        sent = requests.put(url, data=data[(number - 1) * size : number * size], timeout=120)
        assert sent.status_code == 200, sent.text
        etags.append({"part_number": number, "etag": sent.headers["ETag"]})
    done = requests.post(
        f"{service_url}/uploads/{upload_id}/complete", json={"parts": etags}, timeout=120
    )
    assert done.status_code == 202, done.text
    image_id = wait_ready(service_url, upload_id)["image_id"]
    image = requests.get(f"{service_url}/images/{image_id}", timeout=30).json()
    assert image["size_bytes"] == len(data)


def test_reads_and_copies_of_an_upload_that_changed_are_refused(s3: S3Client) -> None:
    store, key = S3UploadStore(s3, BUCKET), a_key()
    s3.put_object(Bucket=BUCKET, Key=key, Body=png_of_size(6 * MIB))
    checked = store.version_of(key)
    assert checked is not None
    s3.put_object(Bucket=BUCKET, Key=key, Body=png_of_size(6 * MIB))  # same size, other bytes
    now = store.version_of(key)
    assert now is not None
    assert now.etag != checked.etag

    with pytest.raises(UploadChanged):
        store.read(key, etag=checked.etag)
    with pytest.raises(UploadChanged):
        store.read_header(key, 64, etag=checked.etag)
    with pytest.raises(UploadChanged):
        store.sha256_of(key, etag=checked.etag)
    with pytest.raises(UploadChanged):
        store.copy(
            key,
            f"originals/{uuid.uuid4().hex}",
            content_type="image/png",
            sha256="0" * 64,
            etag=checked.etag,
        )
    copied: list[Piece] = [Kept(0, 6 * MIB)]
    read: list[Piece] = [Written(b"x"), Kept(0, 100)]
    for pieces in (copied, read):
        with pytest.raises(UploadChanged):
            store.compose(
                key, f"{key}.rewritten", pieces, content_type="image/png", etag=checked.etag
            )

    # Held to the version that is there, each of them succeeds.
    destination = f"originals/{uuid.uuid4().hex}"
    store.copy(key, destination, content_type="image/png", sha256="0" * 64, etag=now.etag)
    assert s3.get_object(Bucket=BUCKET, Key=destination)["Body"].read() == store.read(
        key, etag=now.etag
    )
    composed = store.compose(
        key, f"{key}.rewritten", [Kept(0, 6 * MIB)], content_type="image/png", etag=now.etag
    )
    assert store.sha256_of(f"{key}.rewritten", etag=composed) == store.sha256_of(key, etag=now.etag)
