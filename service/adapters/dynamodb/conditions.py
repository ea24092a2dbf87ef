"""The conditions of the image repository's writes, and what a cancelled transaction says."""

from __future__ import annotations

from typing import Any

import msgspec
from botocore.exceptions import ClientError

from service.domain.model import Image, ImageStatus, image_id_time


def cancellation_reasons(error: BaseException | None) -> list[dict[str, Any]]:
    if not isinstance(error, ClientError):
        return []
    reasons: list[dict[str, Any]] = error.response.get("CancellationReasons", [])  # type: ignore[assignment]
    return reasons


def refused(error: BaseException | None, index: int) -> bool:
    """Whether the transaction was cancelled because operation ``index``'s condition failed."""
    reasons = cancellation_reasons(error)
    return len(reasons) > index and reasons[index].get("Code") == "ConditionalCheckFailed"


def claim_holder(error: BaseException | None, index: int) -> str | None:
    """The image id in the claim that refused operation ``index``, when DynamoDB returned it."""
    item = cancellation_reasons(error)[index].get("Item") or {}
    holder = item.get("image_id", {}).get("S")
    return holder if isinstance(holder, str) else None


class Condition(msgspec.Struct, frozen=True):
    """A DynamoDB condition expression with its attribute names and values."""

    expression: str
    names: dict[str, str]
    values: dict[str, Any]

    def extended(self, expression: str, values: dict[str, Any]) -> Condition:
        return Condition(f"{self.expression} AND {expression}", self.names, self.values | values)

    def with_values(self, values: dict[str, Any]) -> Condition:
        """The same condition, carrying the values of the write's own expression too."""
        return Condition(self.expression, self.names, self.values | values)


def condition_on(expected: ImageStatus, unchanged_since: Image | None = None) -> Condition:
    """The stored item is in ``expected`` status and, for a write computed from an image read
    before (``unchanged_since``), still at that version and of that owner. The owner is part of
    it so that no bug above the repository can make a write land on another user's item."""
    condition = Condition("#s = :expected", {"#s": "status"}, {":expected": {"S": expected.value}})
    if unchanged_since is None:
        return condition
    # Items written before versions existed have none: they are version 1.
    version = "#v = :read_version"
    if unchanged_since.version == 1:
        version = f"(attribute_not_exists(#v) OR {version})"
    return Condition(
        f"{condition.expression} AND {version} AND #o = :owner",
        condition.names | {"#v": "version", "#o": "user_id"},
        condition.values
        | {
            ":read_version": {"N": str(unchanged_since.version)},
            ":owner": {"S": unchanged_since.user_id},
        },
    )


def tombstone_of(image_id: str) -> Image:
    """What the sweeper writes on the id of an upload that never published: a DELETING image
    with nothing but its id, so that a late publish fails and a crashed sweep is finished by
    the next one."""
    created = image_id_time(image_id)
    return Image(
        image_id=image_id,
        user_id="",
        content_type="",
        size_bytes=0,
        width=0,
        height=0,
        sha256="",
        original_filename="",
        created_at=created,
        updated_at=created,
        status=ImageStatus.DELETING,
    )
