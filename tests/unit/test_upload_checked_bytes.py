"""An upload session's job publishes exactly the bytes it checked: every read and copy of the
incoming object is held to the version (ETag) the job first found, so an object that changes
while the job runs fails the session (the bytes discarded), and nothing is published."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from service.domain.sessions import MIB, SessionStatus, Ticket
from service.ports import Readable
from tests.support.fakes import InMemoryUploadStore
from tests.support.images import png, png_chunk, png_of_size
from tests.support.located_images import tiff_block
from tests.support.upload_world import ALICE, World


def replacement(data: bytes) -> bytes:
    """Other bytes of the same size: what the uploader might put there instead."""
    return (b"<html>" + bytes(len(data)))[: len(data)]


class ChangingStore(InMemoryUploadStore):
    """Replaces the object a step has just read (``after``, set once the upload is completed,
    so that the job alone sees it): the incoming upload, or its copy rewritten without its
    location."""

    after = ""
    changed = 0

    def _changed(self, step: str, key: str) -> None:
        if step == self.after and key in self.objects:
            self.objects[key] = replacement(self.objects[key])
            self.changed += 1

    def version_of(self, key: str) -> Any:
        version = super().version_of(key)
        self._changed("version_of", key)
        return version

    @contextmanager
    def stream(self, key: str, **kwargs: Any) -> Iterator[Readable]:
        with super().stream(key, **kwargs) as body:
            yield body
        self._changed("stream", key)

    def compose(self, source: str, destination: str, *args: Any, **kwargs: Any) -> Any:
        composed = super().compose(source, destination, *args, **kwargs)
        self._changed("compose", destination)
        return composed


def plain() -> bytes:
    return png_of_size(2 * MIB)


def located() -> bytes:
    """Rewritten without its location on complete: every step runs."""
    return png_of_size(2 * MIB, png_chunk(b"eXIf", tiff_block()))


def sent(world: World, data: bytes) -> tuple[Ticket, list[tuple[int, str]]]:
    ticket = world.open(data)
    return ticket, world.send(ticket, data)


def completed_then_changing(
    world: World, ticket: Ticket, parts: list[tuple[int, str]], step: str
) -> None:
    """Complete the upload; from then on, the object is replaced right after ``step``."""
    world.uploads.complete(ALICE, ticket.session.upload_id, parts)
    assert isinstance(world.store, ChangingStore)
    world.store.after = step


def assert_failed_and_nothing_published(world: World, ticket: Ticket) -> None:
    assert isinstance(world.store, ChangingStore)
    assert world.store.changed, f"the job never ran {world.store.after}"
    session = world.session(ticket.session.upload_id)
    assert session.status is SessionStatus.FAILED
    assert session.failure is not None
    assert "changed" in session.failure
    assert world.listed() == []
    assert world.leftovers() == []


@pytest.mark.parametrize(
    ("step", "data"),
    [
        ("version_of", plain),
        ("stream", plain),
        ("version_of", located),
        ("stream", located),
        ("compose", located),
    ],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_a_multipart_upload_that_changes_during_its_job_fails_and_nothing_is_published(
    step: str, data: Any
) -> None:
    # GIVEN a completed multipart session whose object is replaced right after ``step`` read it
    world = World(store_class=ChangingStore)
    ticket, parts = sent(world, data())
    assert ticket.session.multipart_id is not None
    completed_then_changing(world, ticket, parts, step)

    # WHEN the worker runs its job
    world.run_jobs()

    # THEN nothing is published or stored, the session FAILED, and its bytes are discarded
    assert_failed_and_nothing_published(world, ticket)


def test_a_posted_upload_replaced_between_its_size_check_and_its_read_fails() -> None:
    world = World(store_class=ChangingStore)
    ticket, parts = sent(world, png())
    assert ticket.post is not None
    completed_then_changing(world, ticket, parts, "version_of")

    world.run_jobs()

    assert_failed_and_nothing_published(world, ticket)


@pytest.mark.parametrize("data", [plain, located], ids=["as-sent", "rewritten"])
def test_a_multipart_upload_left_alone_stores_the_bytes_it_checked(data: Any) -> None:
    world = World()
    ticket, parts = sent(world, data())

    image = world.published(ticket.session.upload_id, parts)

    stored = world.image_store.objects[image.object_key]
    assert (len(stored), hashlib.sha256(stored).hexdigest()) == (image.size_bytes, image.sha256)
