"""Idempotent retries: what an ``Idempotency-Key`` record holds and how a second request is
answered. The stores (``ports.IdempotencyStore``) keep the records; the HTTP layer
(``api/idempotency.py``) reads the header and replays answers.

A request with a key runs once per (user, key) for a day: a replay of the same request gets the
first answer again (status, body, ``Location``), the same key on another request gets 422, and
a replay while the first still runs gets 409. Only successful answers are kept: a failed
request releases its key, so that a retry runs again (a 4xx is the same again anyway, a 5xx
may not be).

Why not Powertools for AWS Lambda's idempotency utility: it fits Lambda handlers better than
this service. Its DynamoDB layer spells its own keys (``<function>#<hash of the payload>``),
where this table's keys are spelled in one module (``adapters/dynamodb/keys.py``) under the
single-table ``pk``/``sk`` design; it keys records on the payload, where here the key is the
client's header scoped to the user and the payload only decides "same request or not"; and an
in-progress record expires with the Lambda invocation's remaining time, which gunicorn has no
equivalent of (without it a crashed request would hold the key for the whole day). It would
also add a dependency to both runtimes for one conditional Put. The semantics are the same:
conditional writes, a status (IN_PROGRESS, COMPLETED), a hash that validates the payload, and
a TTL attribute.
"""

from __future__ import annotations

import re
from enum import StrEnum

import msgspec

from service.domain.errors import IdempotencyKeyReused, InvalidInput, RequestInProgress

RETENTION_SECONDS = 24 * 3600
# A request still IN_PROGRESS after this long died with its process: its key may be taken over.
IN_PROGRESS_SECONDS = 300
HEADER = "Idempotency-Key"
KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,128}")  # printable ASCII, no spaces


class RecordStatus(StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"


class StoredResponse(msgspec.Struct, frozen=True):
    """The first answer, exactly as it is sent again."""

    status: int
    body: str
    headers: dict[str, str] = msgspec.field(default_factory=dict)


class Record(msgspec.Struct, frozen=True):
    """The state of one idempotency key: in progress or done, with the response to replay."""

    status: RecordStatus
    request_hash: str
    response: StoredResponse | None = None


def checked_key(value: str) -> str:
    """1 to 128 printable ASCII characters, no spaces; InvalidInput otherwise."""
    if not KEY_PATTERN.fullmatch(value):
        raise InvalidInput(
            f"{HEADER} must be 1 to 128 printable ASCII characters without spaces",
            {HEADER: ["1-128 printable ASCII characters"]},
        )
    return value


def answer(record: Record, request_hash: str) -> StoredResponse:
    """How a request is answered when the key already has ``record``. While the first request
    runs, any other with its key waits (409), whether it is the same request or not."""
    if record.status is RecordStatus.IN_PROGRESS or record.response is None:
        raise RequestInProgress(f"The first request with this {HEADER} is still running")
    if record.request_hash != request_hash:
        raise IdempotencyKeyReused(
            f"This {HEADER} was used for another request; use a new key for a new request"
        )
    return record.response
