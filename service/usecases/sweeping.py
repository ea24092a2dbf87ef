"""The sweeper: what interrupted uploads and deletes leave behind, cleaned up.

* An upload that crashed between storing its bytes and publishing leaves an object that no item
  lists. ``sweep`` lists the objects created between ``ORPHAN_WINDOW_SECONDS`` and the grace
  period ago (their keys are ULIDs: a key range is a time range), puts a tombstone on each that
  has no item, so that a publish still in flight fails, and deletes the object. The tombstone
  stays until its id is older than the window (far longer than any request lives), then
  ``sweep`` forgets it.
* A delete that crashed leaves a DELETING item: ``sweep`` finishes it.
* A rendition stored for an image deleted meanwhile is an orphan: each run examines a bounded
  number of rendition prefixes from a random point and removes those of missing images.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta

import msgspec

from service.domain.errors import ImageConflict
from service.domain.model import (
    ORIGINALS_PREFIX,
    RENDITIONS_PREFIX,
    Image,
    ImageStatus,
    id_time_bounds,
    image_id_of_rendition_prefix,
    new_image_id,
    object_key,
    rendition_prefix,
)
from service.ports import ImageRepository, ImageStore

ORPHAN_BATCH = 100  # object ids checked against the metadata per BatchGetItem
ORPHAN_SWEEP_BATCH = 200  # rendition prefixes examined per sweep
# How far back beyond the grace period ``sweep`` looks for objects of uploads that never
# published: several runs of the 15-minute schedule, so a few missed runs lose nothing.
ORPHAN_WINDOW_SECONDS = 6 * 3600


class SweepReport(msgspec.Struct, frozen=True):
    """What one run of the sweeper cleaned up."""

    removed_unpublished: int
    finished_deletes: int
    orphan_renditions: int = 0


class Sweeper:
    def __init__(
        self,
        *,
        store: ImageStore,
        repository: ImageRepository,
        grace_seconds: int,
        clock: Callable[[], datetime],
        sweep_start: Callable[[], str] | None = None,
    ) -> None:
        self._store = store
        self._repository = repository
        self._grace_seconds = grace_seconds
        self._clock = clock
        # Where the orphan-rendition sweep starts: a random image id, so that successive
        # bounded runs cover the whole bucket.
        self._sweep_start = sweep_start or (lambda: new_image_id(_random_instant(self._clock())))

    def sweep(self, grace_seconds: int | None = None) -> SweepReport:
        """Remove leftovers of interrupted uploads and finish interrupted deletes."""
        grace = self._grace_seconds if grace_seconds is None else grace_seconds
        cutoff = self._clock() - timedelta(seconds=grace)
        window_start = cutoff - timedelta(seconds=ORPHAN_WINDOW_SECONDS)
        low, high = id_time_bounds(window_start, cutoff)
        removed: set[str] = set()
        ids = (
            key.removeprefix(ORIGINALS_PREFIX)
            for key in self._store.keys_between(object_key(low), object_key(high))
        )
        for batch in _chunks(ids, ORPHAN_BATCH):
            known = {image.image_id: image for image in self._repository.get_many(batch)}
            for image_id in batch:
                found = known.get(image_id)
                if found is None:
                    if self.tombstone(image_id):
                        removed.add(image_id)
                elif found.status is ImageStatus.DELETING:
                    # a tombstone whose object outlived it (or a delete, finished below)
                    self._store.delete(object_key(image_id))
        finished = 0
        for image in self._repository.unfinished():
            finished += 1
            self.finish_delete(image)
        # A tombstone outlives any request that could still publish its id; then it goes.
        self._repository.forget_tombstones(older_than=window_start)
        return SweepReport(
            removed_unpublished=len(removed),
            finished_deletes=finished,
            orphan_renditions=self._sweep_orphan_renditions(),
        )

    def tombstone(self, image_id: str) -> bool:
        """Mark the id of an upload that never published with a tombstone, then delete its
        object; False if it published meanwhile. The tombstone stays, so that a publish still
        in flight fails."""
        try:
            self._repository.tombstone(image_id)
        except ImageConflict:
            return False
        self._store.delete(object_key(image_id))
        return True

    def finish_delete(self, image: Image) -> None:
        """The bytes, the renditions, then the item of a hidden (DELETING) image."""
        self._store.delete(image.object_key)
        self._store.delete_prefix(rendition_prefix(image.image_id))
        self._repository.remove(image.image_id)

    def _sweep_orphan_renditions(self) -> int:
        """Delete renditions of images that no longer exist: at most ``ORPHAN_SWEEP_BATCH``
        prefixes examined, from a random point, wrapping around once."""
        start = rendition_prefix(self._sweep_start())
        found = self._store.prefixes(RENDITIONS_PREFIX, start_after=start, limit=ORPHAN_SWEEP_BATCH)
        if len(found) < ORPHAN_SWEEP_BATCH:
            found += [
                prefix
                for prefix in self._store.prefixes(
                    RENDITIONS_PREFIX,
                    start_after=RENDITIONS_PREFIX,
                    limit=ORPHAN_SWEEP_BATCH - len(found),
                )
                if prefix <= start
            ]
        ids = {image_id_of_rendition_prefix(prefix): prefix for prefix in found}
        existing = {image.image_id for image in self._repository.get_many(list(ids))}
        removed = 0
        for image_id, prefix in ids.items():
            if image_id not in existing:
                self._store.delete_prefix(prefix)
                removed += 1
        return removed


def _chunks(values: Iterable[str], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _random_instant(now: datetime) -> datetime:
    """A moment between the first ULID time and ``now``."""
    return datetime.fromtimestamp(random.uniform(0, now.timestamp()), tz=UTC)  # noqa: S311
