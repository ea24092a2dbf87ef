"""Turns parsed request arguments into the service's value types, applying the input rules."""

from __future__ import annotations

from typing import Any

from flask import Request
from werkzeug.datastructures import FileStorage

from service.domain import rules
from service.domain.errors import InvalidInput
from service.domain.model import (
    CONTENT_TYPE_BY_RENDITION_FORMAT,
    Image,
    ImageChanges,
    ImageQuery,
    NewImage,
    is_image_id,
)
from service.entrypoints.api.image_schemas import RESERVED_FORM_FIELDS
from service.usecases.batch import MAX_BATCH_IDS, BatchAction, BatchVerb


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
        # As sent, like the user_id filter of a listing: whitespace around it is refused.
        user_id=rules.user_id(form["user_id"]) if "user_id" in form else None,
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
    # ImageQuerySchema takes only the accepted types and their aliases; this names the type.
    content_type = rules.content_type(args.get("content_type"))
    query = ImageQuery(
        user_id=rules.user_id(args["user_id"]) if "user_id" in args else None,
        tags=rules.tags(args.get("tags", ())),
        content_type=content_type,
        date_from=args.get("date_from"),
        date_to=args.get("date_to"),
        taken_from=args.get("taken_from"),
        taken_to=args.get("taken_to"),
        limit=args["limit"],
    )
    return query, args.get("cursor")


def image_ids(args: dict[str, Any]) -> list[str]:
    if set(args) - {"ids", "limit"}:
        raise InvalidInput("ids cannot be combined with other filters", {"ids": ["alone"]})
    ids = [part.strip() for part in args["ids"].split(",") if part.strip()]
    if not 1 <= len(ids) <= MAX_BATCH_IDS or not all(is_image_id(i) for i in ids):
        raise InvalidInput(
            "Invalid ids", {"ids": [f"1 to {MAX_BATCH_IDS} comma-separated image ids"]}
        )
    return ids


def batch_action(body: dict[str, Any]) -> BatchAction:
    verb = BatchVerb(body["action"])
    tags = rules.tags(body["tags"])
    if verb is not BatchVerb.DELETE and not tags:
        raise InvalidInput(f"{verb.value} needs tags", {"tags": ["at least one tag"]})
    return BatchAction(verb=verb, image_ids=tuple(dict.fromkeys(body["ids"])), tags=tags)


def accepted_formats(request: Request) -> tuple[str, ...]:
    """The rendition formats the ``Accept`` header names explicitly (``*/*`` names none: a
    client that says nothing gets JPEG)."""
    named = {value.lower() for value, quality in request.accept_mimetypes if quality > 0}
    return tuple(f for f, kind in CONTENT_TYPE_BY_RENDITION_FORMAT.items() if kind in named)


def etag(image: Image) -> str:
    return f'"{image.version}"'


def if_match(request: Request) -> int | None:
    """The version an ``If-Match`` header names; None without one (or with ``*``). A value
    that names no version of ours can match none: -1."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    value = header.strip().removeprefix("W/").strip('"')
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else -1
