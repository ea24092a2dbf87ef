"""An upload session's complete publishes exactly the bytes it checked: every read and copy of
the incoming object is held to the version (ETag) it first found, so an object that changes
while complete runs is refused (422) and discarded, and nothing is published."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from service.domain.errors import UploadRejected
from service.domain.sessions import MIB, Ticket
from service.ports import Readable
from tests.support.fakes import InMemoryUploadStore
from tests.support.images import png, png_chunk, png_of_size
from tests.support.located_images import tiff_block
from tests.unit.test_uploads import ALICE, World


def replacement(data: bytes) -> bytes:
    """Other bytes of the same size: what the uploader might put there instead."""
    return (b"<html>" + bytes(len(data)))[: len(data)]


class ChangingStore(InMemoryUploadStore):
    """Replaces the object a step has just read (``after``): the incoming upload, or its copy
    rewritten without its location."""

    after = ""

    def _changed(self, step: str, key: str) -> None:
        if step == self.after:
            self.objects[key] = replacement(self.objects[key])

    def version_of(self, key: str) -> Any:
        version = super().version_of(key)
        self._changed("version_of", key)
        return version

    def read_header(self, key: str, length: int, **kwargs: Any) -> bytes:
        header = super().read_header(key, length, **kwargs)
        self._changed("read_header", key)
        return header

    @contextmanager
    def stream(self, key: str, **kwargs: Any) -> Iterator[Readable]:
        with super().stream(key, **kwargs) as body:
            yield body
        self._changed("stream", key)

    def compose(self, source: str, destination: str, *args: Any, **kwargs: Any) -> Any:
        composed = super().compose(source, destination, *args, **kwargs)
        self._changed("compose", destination)
        return composed

    def sha256_of(self, key: str, **kwargs: Any) -> str:
        sha256 = super().sha256_of(key, **kwargs)
        self._changed("sha256_of", key)
        return sha256


def changing_after(step: str) -> type[InMemoryUploadStore]:
    return type(f"ChangingAfter_{step}", (ChangingStore,), {"after": step})


def plain() -> bytes:
    return png_of_size(2 * MIB)


def located() -> bytes:
    """Rewritten without its location on complete: every step runs."""
    return png_of_size(2 * MIB, png_chunk(b"eXIf", tiff_block()))


def sent(world: World, data: bytes) -> tuple[Ticket, list[tuple[int, str]]]:
    ticket = world.open(data)
    return ticket, world.send(ticket, data)


@pytest.mark.parametrize(
    ("step", "data"),
    [
        ("version_of", plain),
        ("read_header", plain),
        ("stream", plain),
        ("version_of", located),
        ("stream", located),
        ("compose", located),
        ("sha256_of", located),
    ],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_a_multipart_upload_that_changes_during_complete_is_refused_and_nothing_published(
    step: str, data: Any
) -> None:
    # GIVEN a multipart session whose object is replaced right after ``step`` read it
    world = World(store_class=changing_after(step))
    ticket, parts = sent(world, data())
    assert ticket.session.multipart_id is not None

    # WHEN it completes
    with pytest.raises(UploadRejected, match="changed"):
        world.uploads.complete(ALICE, ticket.session.upload_id, parts)

    # THEN nothing is published or stored, and the session and its bytes are discarded
    assert world.listed() == []
    assert world.leftovers() == []


def test_a_posted_upload_replaced_between_its_size_check_and_its_read_is_refused() -> None:
    world = World(store_class=changing_after("version_of"))
    ticket, _ = sent(world, png())
    assert ticket.post is not None

    with pytest.raises(UploadRejected, match="changed"):
        world.uploads.complete(ALICE, ticket.session.upload_id)

    assert world.listed() == []
    assert world.leftovers() == []


@pytest.mark.parametrize("data", [plain, located], ids=["as-sent", "rewritten"])
def test_a_multipart_upload_left_alone_stores_the_bytes_it_checked(data: Any) -> None:
    world = World()
    ticket, parts = sent(world, data())

    image = world.uploads.complete(ALICE, ticket.session.upload_id, parts).image

    stored = world.image_store.objects[image.object_key]
    assert (len(stored), hashlib.sha256(stored).hexdigest()) == (image.size_bytes, image.sha256)
