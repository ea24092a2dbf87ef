"""ImageStore: the fake and the S3 adapter behave the same."""

from __future__ import annotations

import hashlib
import io
from urllib.parse import parse_qs, urlparse

import pytest

from service.errors import StorageUnavailable
from service.model import new_image_id, object_key, utc_now
from service.ports import ImageStore


def new_key() -> str:
    """A key where the service would store a new image."""
    return object_key(new_image_id(utc_now()))


def test_put_then_delete_is_idempotent(store: ImageStore) -> None:
    data = b"\xff\xd8 some bytes"
    key = new_key()
    store.put(
        key,
        io.BytesIO(data),
        content_type="image/jpeg",
        sha256=hashlib.sha256(data).hexdigest(),
    )
    store.delete(key)
    store.delete(key)
    store.delete(new_key())  # never written


def test_download_url_names_the_file(store: ImageStore) -> None:
    url = store.download_url(
        new_key(), filename="été photo.jpg", content_type="image/jpeg", expires_in=60
    )
    query = parse_qs(urlparse(url).query)
    assert url
    if "response-content-disposition" in query:  # the S3 adapter
        disposition = query["response-content-disposition"][0]
        assert 'filename="ete photo.jpg"' in disposition
        assert "filename*=UTF-8''%C3%A9t%C3%A9%20photo.jpg" in disposition
        assert query["response-content-type"] == ["image/jpeg"]
        assert query["X-Amz-Expires"] == ["60"]
    else:
        assert query["expires_in"] == ["60"]


def test_check_passes_when_the_store_answers(store: ImageStore) -> None:
    store.check()


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
