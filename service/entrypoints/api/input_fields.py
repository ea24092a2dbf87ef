"""Marshmallow fields of what clients send: tags, custom metadata, user ids, dates, files."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

from flask_smorest.fields import Upload
from marshmallow import (
    ValidationError,
    fields,
    validate,
)
from werkzeug.datastructures import FileStorage

from service.domain.rules import (
    MAX_DATE_TEXT_LENGTH,
    MAX_METADATA_KEYS,
    MAX_METADATA_VALUE_LENGTH,
    MAX_TAG_LENGTH,
    MAX_TAGS,
    MAX_USER_ID_LENGTH,
    METADATA_KEY_PATTERN,
    TAG_AS_SENT_PATTERN,
    USER_ID_PATTERN,
)
from service.entrypoints.api.json_body import JsonBeyondLimits, json_value

if TYPE_CHECKING:
    pass


def anchored(pattern: re.Pattern[str]) -> str:
    """A fullmatch pattern of rules.py as a JSON Schema ``pattern`` (which searches)."""
    return f"^{pattern.pattern}$"


# The input rules (service.domain.rules) check what clients send, once, as the views turn it
# into the domain's values; the fields below only state those rules in the OpenAPI document.


def tag_field() -> fields.String:
    """One tag as sent (rules.tag() checks and normalises it)."""
    return fields.String(
        metadata={
            "maxLength": MAX_TAG_LENGTH,
            "pattern": anchored(TAG_AS_SENT_PATTERN),
            "description": (
                f"Letters and digits of any script, '-', '_' and spaces, at most "
                f"{MAX_TAG_LENGTH} characters. Normalised: spaces trimmed and collapsed, NFKC, "
                f"case-folded; a tag that is then longer than {MAX_TAG_LENGTH} characters or "
                "holds another character (the NFKC form of a few compatibility letters: "
                "'ŀ' is 'l·') is refused."
            ),
        },
    )


def json_tags(**kwargs: Any) -> fields.List:  # type: ignore[type-arg]
    """Tags in a JSON body: an array of them, nothing else (forms and queries: TagList)."""
    metadata = {"maxItems": MAX_TAGS, **kwargs.pop("metadata", {})}
    return fields.List(tag_field(), metadata=metadata, **kwargs)


class TagList(fields.List):  # type: ignore[type-arg]
    """Tags: one per repeated field or parameter (as the OpenAPI document has it), or several in
    one, separated by commas or as a JSON list (``'["a", "b"]'``, the original design's form).
    At most ``max_tags`` in all, counted before they are normalised."""

    def __init__(self, *, max_tags: int, **kwargs: Any) -> None:
        spellings = (
            f"At most {max_tags} tags in all. One value may also hold several, separated by "
            "commas, or a JSON list of them."
        )
        metadata = {"description": spellings, **kwargs.pop("metadata", {})}
        super().__init__(
            tag_field(), validate=validate.Length(max=max_tags), metadata=metadata, **kwargs
        )

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[Any]:
        values = value if isinstance(value, list | tuple) else [value]
        tags: list[str] = []
        for item in values:
            if not isinstance(item, str):
                raise ValidationError("tags must be strings")
            if item.strip().startswith("["):
                try:
                    parsed = json_value(item)
                except JsonBeyondLimits as error:
                    raise ValidationError(str(error)) from None
                except ValueError:
                    raise ValidationError("tags is not a valid JSON list") from None
                if not isinstance(parsed, list) or not all(isinstance(t, str) for t in parsed):
                    raise ValidationError("tags must be a list of strings")
                tags.extend(parsed)
            else:
                tags.extend(item.split(","))
        return list(super()._deserialize(tags, attr, data, **kwargs))


class MetadataValue(fields.Field):  # type: ignore[type-arg]
    """A custom field's value; rules.metadata() checks it (this field documents it)."""

    def __init__(self) -> None:
        super().__init__(
            allow_none=True,
            metadata={
                "type": ["string", "number", "boolean"],  # allow_none adds "null"
                "maxLength": MAX_METADATA_VALUE_LENGTH,
            },
        )


class JsonObject(fields.Dict):
    """Custom metadata: a JSON object, as a form field holding JSON text or as a JSON value."""

    def __init__(self, **kwargs: Any) -> None:
        key = fields.String(metadata={"pattern": anchored(METADATA_KEY_PATTERN)})
        metadata = {"maxProperties": MAX_METADATA_KEYS, **kwargs.pop("metadata", {})}
        super().__init__(keys=key, values=MetadataValue(), metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            try:
                value = json_value(value)
            except JsonBeyondLimits as error:
                raise ValidationError(str(error)) from None
            except ValueError:
                raise ValidationError("metadata is not valid JSON") from None
        if not isinstance(value, dict):
            raise ValidationError("metadata must be a JSON object")
        return super()._deserialize(value, attr, data, **kwargs)  # type: ignore[no-untyped-call]


def user_id_field(**kwargs: Any) -> fields.String:
    """A user id (rules.user_id() checks it)."""
    metadata = {
        "minLength": 1,
        "maxLength": MAX_USER_ID_LENGTH,
        "pattern": anchored(USER_ID_PATTERN),
        **kwargs.pop("metadata", {}),
    }
    return fields.String(metadata=metadata, **kwargs)


class Digits(fields.Integer):
    """An integer; in a query, ASCII digits only (``int()`` also takes ``+5``, ``1_0``, `` 5``
    and digits of other scripts)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, str) and not (value.isascii() and value.isdigit()):
            raise self.make_error("invalid")
        return int(super()._deserialize(value, attr, data, **kwargs))


class IsoDateTime(fields.Field):  # type: ignore[type-arg]
    """ISO 8601 date or date-time; no zone means UTC. A bare date is its first or last instant."""

    def __init__(
        self, *, end_of_day: bool = False, example: str = "2026-11-01", about: str = ""
    ) -> None:
        day = "its last instant" if end_of_day else "its first instant"
        super().__init__(
            metadata={
                "type": "string",
                "anyOf": [{"format": "date-time"}, {"format": "date"}],
                "maxLength": MAX_DATE_TEXT_LENGTH,
                "example": example,
                "description": (
                    f"{about + ' ' if about else ''}An RFC 3339 date-time, or a date alone: {day} "
                    "in UTC. Other ISO 8601 spellings are read too (20261101, a space for T, no "
                    "offset: UTC)."
                ),
            }
        )
        self._end_of_day = end_of_day

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if len(str(value)) > MAX_DATE_TEXT_LENGTH:
            raise ValidationError(f"at most {MAX_DATE_TEXT_LENGTH} characters")
        text = str(value).strip()
        try:
            # A date alone, extended (2026-11-01) or basic (20261101), is a whole day.
            day = date.fromisoformat(text)
        except ValueError:
            day = None
        try:
            if day is not None:
                moment = datetime.combine(day, time.max if self._end_of_day else time.min)
            else:
                moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValidationError("not an ISO 8601 date or date-time") from None
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise ValidationError("outside years 1 to 9999 once converted to UTC") from None


class ImageFile(Upload):  # type: ignore[misc]
    """The uploaded file; a plain text field of the same name is not one."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, FileStorage):
            raise ValidationError("must be a file (multipart/form-data file part)")
        return value
