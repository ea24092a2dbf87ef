"""The combinations of listing filters the service answers, checked before any read.

Every listing is one Query on a partition that holds exactly what it asks for (see
``adapters/dynamodb/keys.py``): a combination no partition serves is refused, not filtered.
"""

from __future__ import annotations

from service.domain.errors import InvalidInput
from service.domain.model import ImageQuery
from service.domain.rules import MAX_TAKEN_SPAN_MONTHS


def check_query(query: ImageQuery) -> None:
    if query.date_from and query.date_to and query.date_from > query.date_to:
        raise InvalidInput(
            "date_from is after date_to", {"date_from": ["must not be after date_to"]}
        )
    if query.by_capture_time:
        _check_capture_time_query(query)


def _check_capture_time_query(query: ImageQuery) -> None:
    """taken_from/taken_to are served by their own partitions: alone (all users, by month) or
    with user_id. Other filters would need a filter on the read, which listings never do."""
    others = {
        "tags": bool(query.tags),
        "content_type": query.content_type is not None,
        "date_from": query.date_from is not None,
        "date_to": query.date_to is not None,
    }
    mixed = [name for name, given in others.items() if given]
    if mixed:
        raise InvalidInput(
            "taken_from/taken_to combine with user_id only",
            {name: ["cannot be combined with taken_from/taken_to"] for name in mixed},
        )
    if query.taken_from and query.taken_to and query.taken_from > query.taken_to:
        raise InvalidInput(
            "taken_from is after taken_to", {"taken_from": ["must not be after taken_to"]}
        )
    if query.user_id is None:
        if query.taken_from is None or query.taken_to is None:
            missing = "taken_from" if query.taken_from is None else "taken_to"
            raise InvalidInput(
                "Without user_id, both taken_from and taken_to are required",
                {missing: ["required without user_id"]},
            )
        months = (query.taken_to.year - query.taken_from.year) * 12 + (
            query.taken_to.month - query.taken_from.month
        )
        if months >= MAX_TAKEN_SPAN_MONTHS:
            raise InvalidInput(
                f"Without user_id, taken_from and taken_to span at most "
                f"{MAX_TAKEN_SPAN_MONTHS} months",
                {"taken_from": [f"within {MAX_TAKEN_SPAN_MONTHS} months of taken_to"]},
            )
