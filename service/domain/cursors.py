"""Opaque, signed pagination cursors, bound to the query that produced them."""

from __future__ import annotations

from typing import Any

from itsdangerous import BadData, URLSafeTimedSerializer

from service.domain.errors import InvalidCursor
from service.domain.model import ImageQuery

CURSOR_MAX_AGE_SECONDS = 24 * 3600


class CursorCodec:
    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="mpycloud.cursor")

    def encode(self, query: ImageQuery, position: dict[str, str]) -> str:
        return self._serializer.dumps({"q": query.fingerprint(), "p": position})

    def decode(self, query: ImageQuery, cursor: str) -> dict[str, str]:
        try:
            payload: Any = self._serializer.loads(cursor, max_age=CURSOR_MAX_AGE_SECONDS)
        except BadData:
            raise InvalidCursor() from None
        if not isinstance(payload, dict) or payload.get("q") != query.fingerprint():
            raise InvalidCursor()
        position = payload.get("p")
        if not isinstance(position, dict):
            raise InvalidCursor()
        return {str(key): str(value) for key, value in position.items()}
