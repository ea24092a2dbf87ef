"""The grid's filters, read from the URL (so a filtered grid is a link to share)."""

from __future__ import annotations

from typing import Any

import msgspec
from marshmallow import EXCLUDE, ValidationError
from werkzeug.datastructures import MultiDict

from service.domain.errors import InvalidInput
from service.domain.model import ImageQuery
from service.entrypoints.api import inputs
from service.entrypoints.api.image_schemas import ImageQuerySchema

PAGE_SIZE = 24
FILTERS = ("tags", "user_id", "content_type", "date_from", "date_to")


class Browse(msgspec.Struct, frozen=True):
    """The filters as typed (to show them again) and as a query (to run)."""

    given: dict[str, str] = msgspec.field(default_factory=dict)
    cursor: str | None = None

    @classmethod
    def from_args(cls, args: MultiDict[str, str]) -> Browse:
        given = {name: args.get(name, "").strip() for name in FILTERS}
        return cls({name: value for name, value in given.items() if value}, args.get("cursor"))

    @property
    def active(self) -> bool:
        return bool(self.given)

    def value(self, name: str) -> str:
        return self.given.get(name, "")

    def query(self) -> ImageQuery:
        """InvalidInput names the filters that are wrong."""
        try:
            loaded: dict[str, Any] = ImageQuerySchema(unknown=EXCLUDE).load(
                {**self.given, "limit": PAGE_SIZE}
            )
        except ValidationError as error:
            problems = _messages(error)
            raise InvalidInput(f"Check the filters: {', '.join(problems)}", problems) from None
        query, _ = inputs.image_query(loaded)
        return query

    def url_args(self, cursor: str | None = None) -> dict[str, Any]:
        return {**self.given, "cursor": cursor} if cursor else dict(self.given)


def _messages(error: ValidationError) -> dict[str, Any]:
    """marshmallow's messages by field (a schema's errors always come as a dict)."""
    messages = error.messages
    return messages if isinstance(messages, dict) else {"_schema": messages}
