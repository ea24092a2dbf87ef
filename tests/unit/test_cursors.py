"""Pagination cursors: signed, opaque, bound to their query, and expiring."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from service.domain.cursors import CURSOR_MAX_AGE_SECONDS, CursorCodec
from service.domain.errors import InvalidCursor
from service.domain.model import ImageQuery

SECRET = "unit-test-cursor-secret-0123456789"
POSITION = {"day": "2026-11-05", "after": "01JC0000000000000000000000"}
QUERY = ImageQuery(user_id="alice", tags=("nature", "sunset"), content_type="image/jpeg")


@pytest.fixture
def codec() -> CursorCodec:
    return CursorCodec(SECRET)


def test_round_trip(codec: CursorCodec) -> None:
    cursor = codec.encode(QUERY, POSITION)

    assert codec.decode(QUERY, cursor) == POSITION
    assert "alice" not in cursor  # opaque enough not to show the filters in clear
    assert CursorCodec(SECRET).decode(QUERY, cursor) == POSITION  # another process, same secret


def test_a_cursor_ignores_page_size_and_tag_order(codec: CursorCodec) -> None:
    cursor = codec.encode(QUERY, POSITION)
    same_filters = ImageQuery(
        user_id="alice", tags=("sunset", "nature"), content_type="image/jpeg", limit=99
    )

    assert codec.decode(same_filters, cursor) == POSITION


def flip(text: str, index: int) -> str:
    return text[:index] + ("A" if text[index] != "A" else "B") + text[index + 1 :]


@pytest.mark.parametrize("where", [0, 5, 0.5, -3])
def test_a_tampered_cursor_is_rejected(codec: CursorCodec, where: float) -> None:
    cursor = codec.encode(QUERY, POSITION)
    index = int(len(cursor) * where) if isinstance(where, float) else where % len(cursor)
    if cursor[index] == ".":
        index += 1

    with pytest.raises(InvalidCursor):
        codec.decode(QUERY, flip(cursor, index))


@pytest.mark.parametrize("cursor", ["", "garbage", "a.b.c", "." * 40])
def test_garbage_is_rejected(codec: CursorCodec, cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        codec.decode(QUERY, cursor)


@pytest.mark.parametrize(
    "other",
    [
        ImageQuery(user_id="mallory", tags=("nature", "sunset"), content_type="image/jpeg"),
        ImageQuery(tags=("nature", "sunset"), content_type="image/jpeg"),
        ImageQuery(user_id="alice", tags=("nature",), content_type="image/jpeg"),
        ImageQuery(user_id="alice", tags=("nature", "sunset")),
        ImageQuery(
            user_id="alice",
            tags=("nature", "sunset"),
            content_type="image/jpeg",
            date_from=datetime(2026, 1, 1, tzinfo=UTC),
        ),
        ImageQuery(
            user_id="alice",
            tags=("nature", "sunset"),
            content_type="image/jpeg",
            date_to=datetime(2026, 1, 1, tzinfo=UTC),
        ),
    ],
    ids=["other-user", "no-user", "fewer-tags", "no-type", "date-from", "date-to"],
)
def test_a_cursor_of_another_query_is_rejected(codec: CursorCodec, other: ImageQuery) -> None:
    cursor = codec.encode(QUERY, POSITION)

    with pytest.raises(InvalidCursor):
        codec.decode(other, cursor)


def test_a_cursor_signed_with_another_secret_is_rejected(codec: CursorCodec) -> None:
    cursor = CursorCodec("another-secret-0123456789abcdef").encode(QUERY, POSITION)

    with pytest.raises(InvalidCursor):
        codec.decode(QUERY, cursor)


def at(monkeypatch: pytest.MonkeyPatch, timestamp: int) -> None:
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: timestamp)


def test_a_cursor_expires_after_its_max_age(
    codec: CursorCodec, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = 1_800_000_000
    at(monkeypatch, start)
    cursor = codec.encode(QUERY, POSITION)

    at(monkeypatch, start + CURSOR_MAX_AGE_SECONDS)
    assert codec.decode(QUERY, cursor) == POSITION

    at(monkeypatch, start + CURSOR_MAX_AGE_SECONDS + 1)
    with pytest.raises(InvalidCursor):
        codec.decode(QUERY, cursor)


@pytest.mark.parametrize(
    "payload",
    [
        ["not", "a", "dict"],
        {"q": QUERY.fingerprint()},
        {"q": QUERY.fingerprint(), "p": "not-a-dict"},
        {"p": POSITION},
    ],
    ids=["list", "no-position", "position-not-dict", "no-query"],
)
def test_a_validly_signed_but_malformed_payload_is_rejected(
    codec: CursorCodec, payload: object
) -> None:
    # Signed as the codec signs (same secret and salt): only the payload shape is wrong.
    cursor = URLSafeTimedSerializer(SECRET, salt="mpycloud.cursor").dumps(payload)

    with pytest.raises(InvalidCursor):
        codec.decode(QUERY, cursor)


def test_the_error_message_is_safe_to_show() -> None:
    assert "cursor" in InvalidCursor().message
