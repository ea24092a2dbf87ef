"""Turns parsed request arguments into the service's value types, applying the input rules."""

from __future__ import annotations

from typing import Any

from werkzeug.datastructures import FileStorage

from service import rules
from service.api.identity import resolve_user
from service.api.schemas import RESERVED_FORM_FIELDS
from service.errors import InvalidInput
from service.model import ACCEPTED_CONTENT_TYPES, ImageChanges, ImageQuery, NewImage


def new_image(form: dict[str, Any], upload: FileStorage) -> NewImage:
    custom = dict(form["metadata"])
    for name, value in form.items():
        if name in RESERVED_FORM_FIELDS:
            continue
        if name in custom:
            raise InvalidInput(
                f"Custom field {name!r} given twice",
                {name: ["given both as a form field and inside metadata"]},
            )
        custom[name] = value
    return NewImage(
        user_id=resolve_user(form["user_id"]),
        original_filename=upload.filename or "",
        declared_content_type=upload.content_type,
        description=rules.description(form["description"]),
        tags=rules.tags(form["tags"]),
        metadata=rules.metadata(custom),
    )


def image_changes(changes: dict[str, Any]) -> ImageChanges:
    return ImageChanges(
        description=rules.description(changes["description"]) if "description" in changes else None,
        tags=rules.tags(changes["tags"]) if "tags" in changes else None,
        metadata=rules.metadata(changes["metadata"]) if "metadata" in changes else None,
    )


def image_query(args: dict[str, Any]) -> tuple[ImageQuery, str | None]:
    content_type = rules.content_type(args.get("content_type"))
    if content_type is not None and content_type not in ACCEPTED_CONTENT_TYPES:
        raise InvalidInput(
            f"Unknown content_type {content_type!r}",
            {"content_type": [f"one of {', '.join(ACCEPTED_CONTENT_TYPES)}"]},
        )
    query = ImageQuery(
        user_id=rules.user_id(args["user_id"]) if "user_id" in args else None,
        tags=rules.tags(args.get("tags", ())),
        content_type=content_type,
        date_from=args.get("date_from"),
        date_to=args.get("date_to"),
        limit=args["limit"],
    )
    return query, args.get("cursor")
