"""Batch operations: one action on up to ``MAX_BATCH_IDS`` images, each item on its own.

Every item goes through the same single-image use case as its endpoint (one conditional write
each), so an item is never half-applied, and one item's failure is that item's result only.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Protocol

import msgspec

from service.domain import rules
from service.domain.errors import (
    Forbidden,
    ImageConflict,
    ImageNotFound,
    ImageServiceError,
    InvalidInput,
    MalformedImageId,
)
from service.domain.model import Caller, Image, ImageChanges

MAX_BATCH_IDS = 100


class ImageEditor(Protocol):
    """The single-image use cases a batch item runs: those of its endpoints."""

    def delete(self, caller: Caller, image_id: str) -> None: ...

    def update(
        self, caller: Caller, image_id: str, changes: Callable[[Image], ImageChanges]
    ) -> Image: ...


class BatchVerb(StrEnum):
    DELETE = "delete"
    ADD_TAGS = "add_tags"
    REMOVE_TAGS = "remove_tags"


class ItemResult(StrEnum):
    OK = "ok"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    CONFLICT = "conflict"
    INVALID = "invalid"  # e.g. adding tags would pass the per-image limit
    UNAVAILABLE = "unavailable"  # storage failed for this item; retrying it may succeed


class BatchAction(msgspec.Struct, frozen=True):
    """One batch request: what to do to which images."""

    verb: BatchVerb
    image_ids: tuple[str, ...]
    tags: tuple[str, ...] = ()


class BatchResult(msgspec.Struct, frozen=True):
    """What became of one image of a batch."""

    image_id: str
    result: ItemResult
    message: str | None = None


_RESULT_BY_ERROR: tuple[tuple[type[ImageServiceError], ItemResult], ...] = (
    (ImageNotFound, ItemResult.NOT_FOUND),
    (MalformedImageId, ItemResult.NOT_FOUND),
    (Forbidden, ItemResult.FORBIDDEN),
    (ImageConflict, ItemResult.CONFLICT),
    (InvalidInput, ItemResult.INVALID),
)


def run_item(
    service: ImageEditor, caller: Caller, action: BatchAction, image_id: str
) -> BatchResult:
    try:
        if action.verb is BatchVerb.DELETE:
            service.delete(caller, image_id)
        else:
            service.update(caller, image_id, lambda current: _tag_change(action, current))
    except ImageServiceError as error:
        result = next(
            (result for kind, result in _RESULT_BY_ERROR if isinstance(error, kind)),
            ItemResult.UNAVAILABLE,
        )
        return BatchResult(image_id, result, error.message)
    return BatchResult(image_id, ItemResult.OK)


def _tag_change(action: BatchAction, current: Image) -> ImageChanges:
    if action.verb is BatchVerb.ADD_TAGS:
        return ImageChanges(tags=rules.tags((*current.tags, *action.tags)))
    removed = set(action.tags)
    return ImageChanges(tags=tuple(tag for tag in current.tags if tag not in removed))
