"""UploadStore.stream and .compose, on the fake and on S3 (moto): an upload rewritten where it
lies, S3 copying the long kept ranges itself (UploadPartCopy), is the bytes the pieces say; reads
are held to the version version_of found (moto enforces If-Match on reads, not on copies: the
containers' tests hold copies to it on LocalStack)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import boto3
import pytest

from service.adapters.s3_upload_store import S3UploadStore
from service.bootstrap import s3_client
from service.domain.errors import UploadChanged
from service.domain.scrub import Kept, Piece, Scrubbed, Written
from service.ports import UploadStore
from service.settings import Settings
from tests.support.fakes import InMemoryUploadStore

MIB = 1024 * 1024
SOURCE = "incoming/01JAAAAAAAAAAAAAAAAAAAAAAA"


@pytest.fixture(params=["fake", "s3"])
def uploads(request: pytest.FixtureRequest) -> Iterator[UploadStore]:
    """An upload store holding ``arrived()`` under SOURCE."""
    if request.param == "fake":
        yield InMemoryUploadStore(objects={SOURCE: arrived()})
    else:
        settings: Settings = request.getfixturevalue("aws")
        s3 = boto3.client("s3", region_name=settings.aws_default_region)
        s3.put_object(Bucket=settings.s3_bucket_name, Key=SOURCE, Body=arrived())
        yield S3UploadStore(s3_client(settings), settings.s3_bucket_name)


_ARRIVED = os.urandom(12 * MIB)


def arrived() -> bytes:
    return _ARRIVED


def seen(uploads: UploadStore, key: str = SOURCE) -> str:
    version = uploads.version_of(key)
    assert version is not None
    return version.etag


def test_a_stream_reads_the_whole_object(uploads: UploadStore) -> None:
    version = uploads.version_of(SOURCE)
    assert version is not None
    assert version.size == len(arrived())

    with uploads.stream(SOURCE, etag=version.etag) as stream:
        data = b"".join(iter(lambda: stream.read(MIB), b""))

    assert data == arrived()


def test_a_read_of_another_version_is_upload_changed(uploads: UploadStore) -> None:
    other = '"0123456789abcdef0123456789abcdef"'

    with pytest.raises(UploadChanged):
        uploads.read_header(SOURCE, 16, etag=other)
    with pytest.raises(UploadChanged), uploads.stream(SOURCE, etag=other):
        pass
    with pytest.raises(UploadChanged):
        uploads.sha256_of(SOURCE, etag=other)


@pytest.mark.parametrize(
    "pieces",
    [
        # new bytes at the start, a long range, new bytes in the middle, another long range
        (
            Written(b"head"),
            Kept(10, 6 * MIB),
            Written(b"middle"),
            Kept(6 * MIB + 5, 12 * MIB - 3),
        ),
        # a range long enough to be copied whole, then short ones, new bytes last
        (Kept(0, 7 * MIB), Kept(7 * MIB + 1, 7 * MIB + 100), Written(b"tail")),
        # one short piece, the whole of the file
        (Written(b"x" * 10),),
    ],
    ids=["written-and-long-ranges", "copied-first", "small"],
)
def test_compose_writes_what_the_pieces_say(
    uploads: UploadStore, pieces: tuple[Piece, ...]
) -> None:
    scrubbed = Scrubbed(pieces)

    destination = f"{SOURCE}.without-location"

    etag = uploads.compose(
        SOURCE, destination, scrubbed.pieces, content_type="x/y", etag=seen(uploads)
    )

    assert etag == seen(uploads, destination)
    composed = uploads.read(destination, etag=etag)
    assert composed == scrubbed.apply(arrived())
