"""IdempotencyStore on the image table: one item per (user, key) (key spelling: keys.py).

``begin`` is one conditional Put: it succeeds when there is no record, when the record's day
is over (``ttl`` in the past: DynamoDB deletes expired items late, so the condition does not
count on it) or when an IN_PROGRESS record outlived any request (its process died). Otherwise
the record that stood in the way answers the request.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from service.adapters.aws_errors import translate_errors
from service.adapters.dynamodb import keys
from service.domain.errors import ImageConflict, RequestInProgress
from service.domain.idempotency_keys import (
    IN_PROGRESS_SECONDS,
    RETENTION_SECONDS,
    Record,
    RecordStatus,
    StoredResponse,
    answer,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_ATTEMPTS = 3
_REFUSED = "ConditionalCheckFailedException"


def _key(owner: str, key: str) -> dict[str, Any]:
    return {"pk": {"S": keys.idempotency_partition(owner, key)}, "sk": {"S": keys.IDEMPOTENCY}}


def _record(item: dict[str, Any]) -> Record:
    response = None
    if "response" in item:
        stored = json.loads(item["response"]["S"])
        response = StoredResponse(stored["status"], stored["body"], stored["headers"])
    return Record(RecordStatus(item["status"]["S"]), item["request_hash"]["S"], response)


class DynamoDBIdempotencyStore:
    def __init__(
        self, client: DynamoDBClient, table: str, clock: Callable[[], float] = time.time
    ) -> None:
        self._client = client
        self._table = table
        self._clock = clock

    def begin(self, owner: str, key: str, request_hash: str) -> StoredResponse | None:
        for _ in range(_ATTEMPTS):
            if self._claim(owner, key, request_hash):
                return None
            stored = self._get(owner, key)
            if stored is not None:
                return answer(_record(stored), request_hash)
            # The record went away between the Put and the Get (released, expired): again.
        raise RequestInProgress("The first request with this Idempotency-Key is still running")

    def complete(self, owner: str, key: str, request_hash: str, response: StoredResponse) -> None:
        stored = {"status": response.status, "body": response.body, "headers": response.headers}
        with translate_errors("record the answer of the idempotency key"):
            self._client.update_item(
                TableName=self._table,
                Key=_key(owner, key),
                UpdateExpression="SET #s = :done, #r = :response REMOVE locked_until",
                ConditionExpression="#s = :progress AND request_hash = :hash",
                ExpressionAttributeNames={"#s": "status", "#r": "response"},
                ExpressionAttributeValues={
                    ":done": {"S": RecordStatus.COMPLETED.value},
                    ":progress": {"S": RecordStatus.IN_PROGRESS.value},
                    ":hash": {"S": request_hash},
                    ":response": {"S": json.dumps(stored, separators=(",", ":"))},
                },
            )

    def release(self, owner: str, key: str) -> None:
        """Only an IN_PROGRESS record: a kept answer stays."""
        with suppress(ImageConflict), translate_errors("release the idempotency key"):
            self._client.delete_item(
                TableName=self._table,
                Key=_key(owner, key),
                ConditionExpression="#s = :progress",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":progress": {"S": RecordStatus.IN_PROGRESS.value}},
            )

    def _claim(self, owner: str, key: str, request_hash: str) -> bool:
        now = int(self._clock())
        with translate_errors("record the idempotency key"):
            try:
                self._client.put_item(
                    TableName=self._table,
                    Item=_key(owner, key)
                    | {
                        "status": {"S": RecordStatus.IN_PROGRESS.value},
                        "request_hash": {"S": request_hash},
                        "locked_until": {"N": str(now + IN_PROGRESS_SECONDS)},
                        "ttl": {"N": str(now + RETENTION_SECONDS)},
                    },
                    ConditionExpression=(
                        "attribute_not_exists(pk) OR #ttl < :now"
                        " OR (#s = :progress AND locked_until < :now)"
                    ),
                    ExpressionAttributeNames={"#ttl": "ttl", "#s": "status"},
                    ExpressionAttributeValues={
                        ":now": {"N": str(now)},
                        ":progress": {"S": RecordStatus.IN_PROGRESS.value},
                    },
                )
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") == _REFUSED:
                    return False
                raise
        return True

    def _get(self, owner: str, key: str) -> dict[str, Any] | None:
        with translate_errors("read the idempotency key"):
            found = self._client.get_item(
                TableName=self._table, Key=_key(owner, key), ConsistentRead=True
            )
        item: dict[str, Any] | None = found.get("Item")
        if item is None or int(item["ttl"]["N"]) < int(self._clock()):
            return None
        return item
