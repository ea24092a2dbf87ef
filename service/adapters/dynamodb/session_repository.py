"""UploadSessionRepository on the image table: one item per session (key: keys.py).

A session that is not finished (READY or FAILED) sits in the sparse ``sweep`` index under its
expiry, so the sweeper
finds expired sessions with a Query. Every transition is a conditional write on the status (and
image id) read, so two completes cannot both publish.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from service.adapters.aws_errors import translate_errors
from service.adapters.dynamodb import keys
from service.adapters.dynamodb.table import SWEEP_INDEX
from service.domain.sessions import SessionStatus, UploadSession

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
_MOMENT = "%Y-%m-%dT%H:%M:%SZ"
# A finished session is kept a day past its expiry, so that its owner still sees how it ended;
# DynamoDB's TTL on ``ttl`` then removes it.
DONE_RETENTION_SECONDS = 86_400
# Statuses of sessions stored before the worker took over completing them.
_FORMER_STATUSES = {"COMPLETING": SessionStatus.PROCESSING, "DONE": SessionStatus.READY}


def _key(upload_id: str) -> dict[str, Any]:
    return {"pk": {"S": keys.upload_partition(upload_id)}, "sk": {"S": keys.META}}


def to_item(session: UploadSession) -> dict[str, Any]:
    plain: dict[str, Any] = {
        "pk": keys.upload_partition(session.upload_id),
        "sk": keys.META,
        "upload_id": session.upload_id,
        "user_id": session.user_id,
        "filename": session.filename,
        "content_type": session.content_type,
        "size": session.size,
        "created_at": session.created_at.isoformat(),
        "expires_at": session.expires_at.isoformat(),
        "description": session.description,
        "tags": list(session.tags),
        "metadata": json.dumps(session.metadata, separators=(",", ":")),
        "part_size": session.part_size,
        "status": session.status.value,
        "duplicate": session.duplicate,
        "ttl": int(session.expires_at.timestamp()) + DONE_RETENTION_SECONDS,
    }
    for name in ("sha256", "multipart_id", "image_id", "failure"):
        if getattr(session, name) is not None:
            plain[name] = getattr(session, name)
    if session.parts:
        plain["parts"] = json.dumps(session.parts, separators=(",", ":"))
    if not session.status.finished:
        plain["sweep_pk"] = keys.sweep_partition(keys.sweep_shard(session.upload_id))
        plain["sweep_sk"] = keys.session_sweep_key(
            session.expires_at.strftime(_MOMENT), session.upload_id
        )
    return {name: _serializer.serialize(value) for name, value in plain.items()}


def from_item(item: dict[str, Any]) -> UploadSession:
    plain = {name: _deserializer.deserialize(value) for name, value in item.items()}
    return UploadSession(
        upload_id=plain["upload_id"],
        user_id=plain["user_id"],
        filename=plain["filename"],
        content_type=plain["content_type"],
        size=int(plain["size"]),
        created_at=datetime.fromisoformat(plain["created_at"]),
        expires_at=datetime.fromisoformat(plain["expires_at"]),
        sha256=plain.get("sha256"),
        description=plain.get("description", ""),
        tags=tuple(plain.get("tags", ())),
        metadata=json.loads(plain.get("metadata", "{}")),
        multipart_id=plain.get("multipart_id"),
        part_size=int(plain.get("part_size", 0)),
        status=_FORMER_STATUSES.get(plain["status"]) or SessionStatus(plain["status"]),
        image_id=plain.get("image_id"),
        duplicate=bool(plain.get("duplicate", False)),
        parts=tuple((int(n), str(etag)) for n, etag in json.loads(plain.get("parts", "[]"))),
        failure=plain.get("failure"),
    )


class DynamoDBUploadSessions:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def add(self, session: UploadSession) -> None:
        with translate_errors("record the upload session"):
            self._client.put_item(
                TableName=self._table,
                Item=to_item(session),
                ConditionExpression="attribute_not_exists(pk)",
            )

    def get(self, upload_id: str) -> UploadSession | None:
        with translate_errors("read the upload session"):
            response = self._client.get_item(
                TableName=self._table, Key=_key(upload_id), ConsistentRead=True
            )
        item = response.get("Item")
        return from_item(item) if item else None

    def transition(self, old: UploadSession, new: UploadSession) -> UploadSession:
        condition = "#s = :s AND " + (
            "#i = :i" if old.image_id is not None else "attribute_not_exists(#i)"
        )
        values: dict[str, Any] = {":s": {"S": old.status.value}}
        if old.image_id is not None:
            values[":i"] = {"S": old.image_id}
        with translate_errors("update the upload session"):
            self._client.put_item(
                TableName=self._table,
                Item=to_item(new),
                ConditionExpression=condition,
                ExpressionAttributeNames={"#s": "status", "#i": "image_id"},
                ExpressionAttributeValues=values,
            )
        return new

    def remove(self, upload_id: str) -> None:
        with translate_errors("remove the upload session"):
            self._client.delete_item(TableName=self._table, Key=_key(upload_id))

    def expired(self, before: datetime) -> Iterator[UploadSession]:
        low, high = keys.expired_sessions_range(before.strftime(_MOMENT))
        paginator = self._client.get_paginator("query")
        for shard in range(keys.SWEEP_SHARDS):
            with translate_errors("find expired upload sessions"):
                pages = list(
                    paginator.paginate(
                        TableName=self._table,
                        IndexName=SWEEP_INDEX,
                        KeyConditionExpression="sweep_pk = :p AND sweep_sk BETWEEN :lo AND :hi",
                        ExpressionAttributeValues={
                            ":p": {"S": keys.sweep_partition(shard)},
                            ":lo": {"S": low},
                            ":hi": {"S": high},
                        },
                    )
                )
            for page in pages:
                for key in page.get("Items", []):
                    upload_id = keys.upload_id_of_session_sweep_key(key["sweep_sk"]["S"])
                    session = self.get(upload_id)
                    if session is not None and not session.status.finished:
                        yield session
