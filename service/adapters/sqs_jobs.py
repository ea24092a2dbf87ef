"""The jobs queue on SQS: the API sends jobs, the worker receives them (ECS: a long poll;
Lambda: the event source mapping receives for it), and its dead letters can be listed.

The queue is found by name (one GetQueueUrl per process); its redrive policy names the dead
letter queue and how many deliveries a job gets, which the worker needs to know a delivery is
the last one.
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any, Final

import msgspec

from service.adapters.aws_errors import translate_errors
from service.domain.jobs import Delivery, Job

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

_RECEIVE_COUNT: Final = "ApproximateReceiveCount"
_SENT_AT: Final = "SentTimestamp"


class Received(msgspec.Struct, frozen=True):
    """A message as SQS handed it over: its body, how often it was delivered, and the handle
    that deletes it."""

    message_id: str
    body: str
    receive_count: int
    receipt: str = ""


class DeadLetter(msgspec.Struct, frozen=True):
    message_id: str
    body: str
    receive_count: int
    sent_at: str


class SqsJobQueue:
    def __init__(self, client: SQSClient, queue_name: str) -> None:
        self._client = client
        self._name = queue_name
        self._url: str | None = None
        self._max_receives: int | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    def send(self, job: Job) -> None:
        with translate_errors("queue the job"):
            self._client.send_message(QueueUrl=self.url(), MessageBody=job.encode())

    def receive(self, *, wait_seconds: int, max_messages: int = 1) -> list[Received]:
        with translate_errors("receive jobs"):
            answer = self._client.receive_message(
                QueueUrl=self.url(),
                MaxNumberOfMessages=max_messages,
                WaitTimeSeconds=wait_seconds,
                MessageSystemAttributeNames=[_RECEIVE_COUNT],
            )
        return [
            Received(
                message_id=message["MessageId"],
                body=message.get("Body", ""),
                receive_count=int(message.get("Attributes", {}).get(_RECEIVE_COUNT, "1")),
                receipt=message["ReceiptHandle"],
            )
            for message in answer.get("Messages", [])
        ]

    def delete(self, received: Received) -> None:
        with translate_errors("delete the job"):
            self._client.delete_message(QueueUrl=self.url(), ReceiptHandle=received.receipt)

    def delivery(self, received: Received) -> Delivery:
        """The job in ``received``; JobUnreadable if it holds none."""
        limit = self.max_receives()
        return Delivery(
            job=Job.decode(received.body),
            attempt=received.receive_count,
            last_attempt=limit is not None and received.receive_count >= limit,
        )

    def max_receives(self) -> int | None:
        """How many deliveries a job gets before it goes to the dead letters (None: no
        dead-letter queue, as many as it takes)."""
        if self._max_receives is None:
            policy = self._redrive_policy()
            self._max_receives = int(policy["maxReceiveCount"]) if policy else 0
        return self._max_receives or None

    def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        """The messages in the dead-letter queue, left there (each is only looked at)."""
        policy = self._redrive_policy()
        if not policy:
            return []
        dead_name = str(policy["deadLetterTargetArn"]).rsplit(":", 1)[-1]
        with translate_errors("read the dead letters"):
            url = self._client.get_queue_url(QueueName=dead_name)["QueueUrl"]
        seen: dict[str, DeadLetter] = {}
        while len(seen) < limit:
            with translate_errors("read the dead letters"):
                answer = self._client.receive_message(
                    QueueUrl=url,
                    MaxNumberOfMessages=min(10, limit - len(seen)),
                    # Seen, not taken: visible again at once to the next reader.
                    VisibilityTimeout=0,
                    MessageSystemAttributeNames=[_RECEIVE_COUNT, _SENT_AT],
                )
            fresh = [m for m in answer.get("Messages", []) if m["MessageId"] not in seen]
            if not fresh:
                break
            for message in fresh:
                attributes = message.get("Attributes", {})
                seen[message["MessageId"]] = DeadLetter(
                    message_id=message["MessageId"],
                    body=message.get("Body", ""),
                    receive_count=int(attributes.get(_RECEIVE_COUNT, "0")),
                    sent_at=attributes.get(_SENT_AT, ""),
                )
        return list(seen.values())

    def url(self) -> str:
        if self._url is None:
            with self._lock, translate_errors("find the jobs queue"):
                if self._url is None:
                    self._url = self._client.get_queue_url(QueueName=self._name)["QueueUrl"]
        return self._url

    def _redrive_policy(self) -> dict[str, Any]:
        with translate_errors("read the jobs queue's attributes"):
            attributes = self._client.get_queue_attributes(
                QueueUrl=self.url(), AttributeNames=["RedrivePolicy"]
            ).get("Attributes", {})
        policy = attributes.get("RedrivePolicy")
        return dict(json.loads(policy)) if policy else {}
