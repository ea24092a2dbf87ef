"""No half-made image is ever visible, and ``sweep`` removes what crashes leave behind.

Failures are injected between each pair of steps of upload (object to S3, then one transaction
that creates the image READY with its listing entries) and delete, against the in-memory fakes
and against the real S3 + DynamoDB adapters (moto). A leftover is an unfinished image or an
object that no READY image owns.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import boto3
import pytest
from msgspec import structs

from service.adapters.dynamodb import items
from service.adapters.pillow_processor import PillowImageProcessor
from service.bootstrap import image_limits
from service.domain.cursors import CursorCodec
from service.domain.errors import (
    ImageConflict,
    ImageNotFound,
    PreconditionFailed,
    StorageUnavailable,
)
from service.domain.model import (
    ORIGINALS_PREFIX,
    Caller,
    ImageChanges,
    ImageQuery,
    ImageStatus,
    NewImage,
    id_time_bounds,
    is_image_id,
    object_key,
    utc_now,
)
from service.ports import ImageRepository, ImageStore
from service.settings import Settings
from service.usecases.images import ImageService
from tests.support.fakes import InMemoryJobQueue
from tests.support.images import jpeg

ALICE = Caller(user_id="alice")


class Crash(BaseException):
    """A process dying mid-request: not an Exception, so no clean-up code runs."""


class Faulty:
    """Wraps a port; a named method raises an error, or is replaced, until ``heal()``."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._faults: dict[str, BaseException] = {}
        self._replacements: dict[str, Callable[..., Any]] = {}

    def fail(self, method: str, error: BaseException) -> None:
        self._faults[method] = error

    def intercept(self, method: str, replacement: Callable[..., Any]) -> None:
        self._replacements[method] = replacement

    def heal(self) -> None:
        self._faults.clear()
        self._replacements.clear()

    def __getattr__(self, name: str) -> Any:
        if name in self._replacements:
            return self._replacements[name]
        attribute = getattr(self._inner, name)
        if name not in self._faults:
            return attribute

        def failing(*args: Any, **kwargs: Any) -> Any:
            raise self._faults[name]

        return failing


@dataclass
class World:
    service: ImageService
    store: Faulty
    repository: Faulty
    clock: list[datetime]
    table: str | None = None  # the DynamoDB table, when the real adapters are in play

    def upload(self) -> Any:
        new = NewImage(
            user_id="alice", original_filename="a.jpg", declared_content_type=None, tags=("t",)
        )
        return self.service.upload(ALICE, new, io.BytesIO(jpeg())).image

    def upload_tagged(self, tag: str) -> Any:
        new = NewImage(
            user_id="alice", original_filename="a.jpg", declared_content_type=None, tags=(tag,)
        )
        return self.service.upload(ALICE, new, io.BytesIO(jpeg())).image

    def orphaned_entries(self) -> list[str]:
        """Listing entries that do not match the stored images (either way round)."""
        if self.table is None:
            return []  # the fakes derive listings from the images: nothing can be orphaned
        scanned = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=self.table)
        actual = {
            (item["pk"]["S"], item["sk"]["S"])
            for item in scanned["Items"]
            if is_image_id(item["sk"]["S"])
        }
        expected = {
            (partition, image.image_id)
            for image_id in {sk for _, sk in actual}
            if (image := self.repository.get(image_id)) and image.status is ImageStatus.READY
            for partition in items.entry_partitions(image)
        }
        return sorted(f"{pk} {sk}" for pk, sk in actual ^ expected)

    def visible(self) -> list[str]:
        listings = [ImageQuery(), ImageQuery(user_id="alice"), ImageQuery(tags=("t",))]
        return [i.image_id for q in listings for i in self.service.search(ALICE, q).items]

    def leftovers(self) -> int:
        """Unfinished images, and objects that no READY image owns (uploads that never
        published)."""
        unfinished = {image.image_id for image in self.repository.unfinished()}
        low, high = id_time_bounds(None, None)
        for key in self.store.keys_between(object_key(low), object_key(high)):
            image = self.repository.get(key.removeprefix(ORIGINALS_PREFIX))
            if image is None or image.status is not ImageStatus.READY:
                unfinished.add(key)
        return len(unfinished)

    def later(self, seconds: int) -> None:
        self.clock[0] += timedelta(seconds=seconds)


@pytest.fixture
def world(repository: ImageRepository, request: pytest.FixtureRequest) -> World:
    inner_store: ImageStore
    table = None
    if type(repository).__name__.startswith("InMemory"):
        inner_store = request.getfixturevalue("fake_store")
    else:
        from service.adapters.s3_image_store import S3ImageStore
        from service.bootstrap import s3_client

        settings = request.getfixturevalue("aws")
        inner_store = S3ImageStore(s3_client(settings), settings.s3_bucket_name)
        table = settings.dynamodb_table_name
    clock = [utc_now()]
    store, faulty_repository = Faulty(inner_store), Faulty(repository)
    service = ImageService(
        store=store,
        repository=faulty_repository,
        processor=PillowImageProcessor(max_pixels=1_000_000, max_frames=5),
        cursors=CursorCodec("consistency-secret-0123456789"),
        limits=image_limits(Settings(max_file_size=1 << 20, sweep_grace_seconds=600)),
        jobs=InMemoryJobQueue(),
        clock=lambda: clock[0],
    )
    return World(service, store, faulty_repository, clock, table)


Step = Callable[[World], None]


def s3_write_fails(world: World) -> None:
    world.store.fail("put", StorageUnavailable("S3 down"))


def dynamodb_publish_fails(world: World) -> None:
    world.repository.fail("publish", StorageUnavailable("DynamoDB down"))


def dynamodb_fails(world: World) -> None:
    world.repository.fail("publish", StorageUnavailable("DynamoDB down"))
    world.repository.fail("tombstone", StorageUnavailable("DynamoDB down"))


@pytest.mark.parametrize("inject", [s3_write_fails, dynamodb_publish_fails])
def test_failed_upload_leaves_nothing_behind(world: World, inject: Step) -> None:
    inject(world)
    with pytest.raises(StorageUnavailable):
        world.upload()
    world.store.heal()
    world.repository.heal()
    assert world.visible() == []
    assert world.leftovers() == 0


def test_an_upload_that_cannot_clean_up_is_invisible_then_swept(world: World) -> None:
    # GIVEN DynamoDB fails both the publish and the tombstone on the id that would clean up
    dynamodb_fails(world)
    with pytest.raises(StorageUnavailable):
        world.upload()
    world.repository.heal()
    # THEN an object without metadata is left: invisible, and swept past the grace period
    assert world.visible() == []
    assert world.leftovers() == 1
    assert world.service.sweep().removed_unpublished == 0
    world.later(601)
    assert world.service.sweep().removed_unpublished == 1
    assert world.leftovers() == 0


def test_a_publish_whose_answer_is_lost_returns_the_whole_image(world: World) -> None:
    # GIVEN the publish transaction commits but its answer never arrives
    publish = world.repository.publish

    def committed_then_lost(image: Any, *, claim: bool = False) -> Any:
        publish(image, claim=claim)
        raise StorageUnavailable("timed out")

    world.repository.intercept("publish", committed_then_lost)
    image = world.upload()
    world.repository.heal()
    # THEN the upload returns it, listed everywhere, with its bytes: nothing to sweep
    assert world.visible() == [image.image_id] * 3
    assert world.service.download_link(ALICE, image.image_id).url
    assert world.orphaned_entries() == []
    world.later(601)
    assert world.service.sweep().removed_unpublished == 0
    assert world.leftovers() == 0


def test_crash_after_the_object_is_written_is_invisible_then_swept(world: World) -> None:
    world.repository.fail("publish", Crash())
    with pytest.raises(Crash):
        world.upload()
    world.repository.heal()
    assert world.visible() == []
    assert world.leftovers() == 1
    assert world.service.sweep().removed_unpublished == 0  # still within the grace period
    world.later(601)
    report = world.service.sweep()
    assert (report.removed_unpublished, report.finished_deletes) == (1, 0)
    assert world.leftovers() == 0


def test_crash_before_the_object_is_written_leaves_nothing(world: World) -> None:
    world.store.fail("put", Crash())
    with pytest.raises(Crash):
        world.upload()
    world.store.heal()
    world.later(601)
    assert world.visible() == []
    assert world.leftovers() == 0
    assert world.service.sweep().removed_unpublished == 0


@pytest.mark.parametrize(
    ("port", "method"),
    [("store", "delete"), ("repository", "remove")],
    ids=["object-delete-fails", "item-delete-fails"],
)
@pytest.mark.parametrize("error", [StorageUnavailable("down"), Crash()], ids=["error", "crash"])
def test_interrupted_delete_is_hidden_then_finished_by_sweep(
    world: World, port: str, method: str, error: BaseException
) -> None:
    image = world.upload()
    getattr(world, port).fail(method, error)
    with pytest.raises(type(error)):
        world.service.delete(ALICE, image.image_id)
    getattr(world, port).heal()
    assert world.visible() == []
    with pytest.raises(ImageNotFound):
        world.service.get(ALICE, image.image_id)
    assert world.service.sweep().finished_deletes == 1
    assert world.leftovers() == 0
    assert world.service.sweep().finished_deletes == 0


def test_failed_hide_keeps_the_image_whole(world: World) -> None:
    image = world.upload()
    world.repository.fail("hide", StorageUnavailable("down"))
    with pytest.raises(StorageUnavailable):
        world.service.delete(ALICE, image.image_id)
    world.repository.heal()
    assert world.visible() == [image.image_id] * 3
    assert world.service.get(ALICE, image.image_id).status is ImageStatus.READY
    link = world.service.download_link(ALICE, image.image_id)
    assert link.url


def stalled_upload(world: World) -> Any:
    """An upload whose bytes are stored but which has not published yet, past the grace."""
    stalled: list[Any] = []

    def stall(image: Any, *, claim: bool = False) -> Any:
        stalled.append(image)
        raise Crash

    world.repository.intercept("publish", stall)
    with pytest.raises(Crash):
        world.upload()
    world.repository.heal()
    world.later(601)
    return stalled[0]


def test_sweep_marks_a_slow_upload_so_it_cannot_publish_afterwards(world: World) -> None:
    pending = stalled_upload(world)
    # WHEN the sweeper runs, and only then the slow upload tries to publish
    assert world.service.sweep().removed_unpublished == 1
    with pytest.raises(ImageConflict):
        world.repository.publish(pending)
    # THEN nothing is visible and nothing is left
    assert world.visible() == []
    assert world.leftovers() == 0


def test_sweep_leaves_an_upload_that_published_meanwhile(world: World) -> None:
    pending = stalled_upload(world)
    mark = world.repository.tombstone

    def publish_first(image_id: str) -> Any:
        world.repository.publish(pending)  # the slow upload wins the race
        return mark(image_id)

    world.repository.intercept("tombstone", publish_first)
    assert world.service.sweep().removed_unpublished == 0
    assert world.visible() == [pending.image_id] * 3
    assert world.service.download_link(ALICE, pending.image_id).url


def test_of_two_concurrent_deletes_one_deletes_and_the_other_finds_nothing(
    world: World,
) -> None:
    # GIVEN an image, and a second DELETE that runs between the first one's read and write
    image = world.upload()
    hide = world.repository.hide
    second: list[BaseException | None] = []

    def the_other_delete_first(stale: Any) -> Any:
        world.repository.heal()
        try:
            world.service.delete(ALICE, image.image_id)
            second.append(None)
        except BaseException as error:
            second.append(error)
        return hide(stale)

    world.repository.intercept("hide", the_other_delete_first)
    # WHEN the first DELETE goes on with what it read, THEN it finds nothing (404, never 409)
    with pytest.raises(ImageNotFound):
        world.service.delete(ALICE, image.image_id)
    assert second == [None]  # the other one deleted it
    assert world.visible() == []
    assert world.leftovers() == 0


def listed(world: World, tag: str) -> list[str]:
    return [i.image_id for i in world.service.search(ALICE, ImageQuery(tags=(tag,))).items]


def test_interleaved_patches_lose_no_update_and_leave_no_stale_entry(world: World) -> None:
    # GIVEN an image tagged "a"; PATCH a->b reads it, then PATCH a->c runs to the end
    image = world.upload_tagged("a")
    replace = world.repository.replace

    def the_other_patch_first(old: Any, new: Any) -> Any:
        world.repository.heal()
        world.service.update(ALICE, image.image_id, ImageChanges(tags=("c",)))
        return replace(old, new)

    world.repository.intercept("replace", the_other_patch_first)
    # WHEN the first PATCH writes what it computed from its (now stale) read
    result = world.service.update(ALICE, image.image_id, ImageChanges(tags=("b",)))
    # THEN it was recomputed on the fresh version: b wins, and every listing agrees
    assert result.tags == ("b",)
    assert result.version == 3
    assert world.service.get(ALICE, image.image_id).tags == ("b",)
    assert (listed(world, "a"), listed(world, "b"), listed(world, "c")) == (
        [],
        [image.image_id],
        [],
    )
    assert world.orphaned_entries() == []


def test_a_delete_after_a_patch_it_did_not_see_removes_every_entry(world: World) -> None:
    # GIVEN an image tagged "a"; DELETE reads it, then PATCH a->b runs to the end
    image = world.upload_tagged("a")
    hide = world.repository.hide

    def the_patch_first(stale: Any) -> Any:
        world.repository.heal()
        world.service.update(ALICE, image.image_id, ImageChanges(tags=("b",)))
        return hide(stale)

    world.repository.intercept("hide", the_patch_first)
    # WHEN the DELETE goes on with what it read
    world.service.delete(ALICE, image.image_id)
    # THEN the image and all its entries are gone, the new tag's included
    assert (listed(world, "a"), listed(world, "b")) == ([], [])
    assert world.orphaned_entries() == []
    assert world.leftovers() == 0


def test_with_if_match_a_lost_race_is_a_failed_precondition(world: World) -> None:
    image = world.upload_tagged("a")
    replace = world.repository.replace

    def the_other_patch_first(old: Any, new: Any) -> Any:
        world.repository.heal()
        world.service.update(ALICE, image.image_id, ImageChanges(tags=("c",)))
        return replace(old, new)

    world.repository.intercept("replace", the_other_patch_first)
    with pytest.raises(PreconditionFailed):
        world.service.update(ALICE, image.image_id, ImageChanges(tags=("b",)), expected_version=1)
    assert world.service.get(ALICE, image.image_id).tags == ("c",)
    assert listed(world, "c") == [image.image_id]


def test_a_write_that_keeps_losing_is_a_conflict_after_a_few_tries(world: World) -> None:
    image = world.upload_tagged("a")
    replace = world.repository.replace

    def someone_always_first(old: Any, new: Any) -> Any:
        inner = world.repository._inner
        current = inner.get(image.image_id)
        inner.replace(current, structs.replace(current, version=current.version + 1))
        return replace(old, new)

    world.repository.intercept("replace", someone_always_first)
    with pytest.raises(ImageConflict):
        world.service.update(ALICE, image.image_id, ImageChanges(tags=("b",)))
    world.repository.heal()
    assert world.service.get(ALICE, image.image_id).tags == ("a",)
    assert world.orphaned_entries() == []
