"""ImageStore: the fake and the S3 adapter behave the same."""

from __future__ import annotations

import hashlib
import io
from urllib.parse import parse_qs, urlparse

import pytest

from service.domain.errors import StorageUnavailable
from service.domain.model import (
    RENDITIONS_PREFIX,
    new_image_id,
    object_key,
    rendition_key,
    rendition_prefix,
    utc_now,
)
from service.ports import ImageStore


def new_key() -> str:
    """A key where the service would store a new image."""
    return object_key(new_image_id(utc_now()))


def put(store: ImageStore, key: str, data: bytes) -> None:
    store.put(
        key,
        io.BytesIO(data),
        content_type="image/jpeg",
        sha256=hashlib.sha256(data).hexdigest(),
    )


def test_delete_removes_the_key_and_only_it(store: ImageStore) -> None:
    key, kept = new_key(), new_key()
    put(store, key, b"\xff\xd8 some bytes")
    put(store, kept, b"\xff\xd8 other bytes")
    store.delete(key)
    with pytest.raises(StorageUnavailable):
        store.read(key)
    assert key not in store.keys_between(key, key)
    assert store.read(kept) == b"\xff\xd8 other bytes"


def test_put_then_delete_is_idempotent(store: ImageStore) -> None:
    key = new_key()
    put(store, key, b"\xff\xd8 some bytes")
    store.delete(key)
    store.delete(key)
    store.delete(new_key())  # never written
    with pytest.raises(StorageUnavailable):
        store.read(key)


def test_download_url_names_the_file(store: ImageStore) -> None:
    url = store.download_url(
        new_key(), filename="été photo.jpg", content_type="image/jpeg", expires_in=60
    )
    query = parse_qs(urlparse(url).query)
    disposition = query["response-content-disposition"][0]
    assert disposition.startswith("attachment;")
    assert 'filename="ete photo.jpg"' in disposition
    assert "filename*=UTF-8''%C3%A9t%C3%A9%20photo.jpg" in disposition
    assert query["response-content-type"] == ["image/jpeg"]
    assert query["X-Amz-Expires"] == ["60"]


def test_download_url_names_the_key(store: ImageStore) -> None:
    key = new_key()
    url = store.download_url(key, filename="a.jpg", content_type="image/jpeg", expires_in=60)
    assert urlparse(url).path.endswith("/" + key)


def test_check_passes_when_the_store_answers(store: ImageStore) -> None:
    store.check()


def test_check_fails_when_the_store_does_not_answer(unanswering_store: ImageStore) -> None:
    with pytest.raises(StorageUnavailable):
        unanswering_store.check()


def test_read_returns_what_was_put(store: ImageStore) -> None:
    data = bytes(range(256)) * 10
    key = new_key()
    store.put(
        key,
        io.BytesIO(data),
        content_type="image/png",
        sha256=hashlib.sha256(data).hexdigest(),
    )
    assert store.read(key) == data


def test_reading_a_missing_key_is_storage_unavailable(store: ImageStore) -> None:
    with pytest.raises(StorageUnavailable):
        store.read(new_key())


# --- renditions -------------------------------------------------------------------------------


def test_put_once_keeps_the_first_write(store: ImageStore) -> None:
    """Concurrent first requests for a rendition store one result: the second write is
    refused (S3: a conditional put, ``If-None-Match: *``) and the first bytes stay."""
    key = rendition_key(new_image_id(utc_now()), 256, "jpeg")
    assert store.put_once(key, b"first", content_type="image/jpeg") is True
    assert store.put_once(key, b"second", content_type="image/jpeg") is False
    assert store.read(key) == b"first"


def test_delete_prefix_removes_every_key_under_it_only(store: ImageStore) -> None:
    image_id, other = new_image_id(utc_now()), new_image_id(utc_now())
    keys = [rendition_key(image_id, size, "jpeg") for size in (256, 1024)]
    for key in [*keys, rendition_key(other, 256, "jpeg")]:
        store.put_once(key, b"x", content_type="image/jpeg")
    assert store.delete_prefix(rendition_prefix(image_id)) == 2
    assert store.delete_prefix(rendition_prefix(image_id)) == 0
    assert store.read(rendition_key(other, 256, "jpeg")) == b"x"
    with pytest.raises(StorageUnavailable):
        store.read(keys[0])


def test_prefixes_lists_one_folder_per_image_in_order(store: ImageStore) -> None:
    first, second = "01" + "A" * 24, "02" + "B" * 24
    for image_id in (second, first):
        for size in (256, 1024):
            store.put_once(rendition_key(image_id, size, "jpeg"), b"x", content_type="image/jpeg")
    assert store.prefixes(RENDITIONS_PREFIX, start_after=RENDITIONS_PREFIX, limit=10) == [
        rendition_prefix(first),
        rendition_prefix(second),
    ]
    assert store.prefixes(RENDITIONS_PREFIX, start_after=rendition_prefix(first), limit=10) == [
        rendition_prefix(second)
    ]
    assert store.prefixes(RENDITIONS_PREFIX, start_after=RENDITIONS_PREFIX, limit=1) == [
        rendition_prefix(first)
    ]


def test_object_url_names_the_key(store: ImageStore) -> None:
    key = rendition_key(new_image_id(utc_now()), 256, "webp")
    url = urlparse(store.object_url(key, expires_in=120))
    assert url.path.endswith("/" + key)
    assert parse_qs(url.query)["X-Amz-Expires"] == ["120"]
