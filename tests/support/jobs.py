"""The worker's jobs in tests on moto: drain the SQS jobs queue with the worker as
``python -m service worker`` runs it, and Lambda SQS events as the event source mapping sends
them (``ReportBatchItemFailures``)."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Sequence
from typing import Any

from service.bootstrap import build_job_processor, build_job_queue
from service.entrypoints.worker import Worker
from service.settings import Settings

SQS_REGION = "us-east-1"
# One drain is a few rounds at most (a job sends none); a loop beyond this is a bug.
_MAX_ROUNDS = 100


def worker_for(settings: Settings) -> Worker:
    """The worker on ``settings``' queue and adapters, as ``python -m service worker`` builds
    it, without a long poll."""
    return Worker(build_job_processor(settings), build_job_queue(settings), wait_seconds=0)


def run_jobs(settings: Settings) -> int:
    """Run every job on the jobs queue (moto) with the worker, deleting those that succeed;
    how many succeeded. A job that fails stays hidden for the queue's visibility timeout, so it
    is not run again here (its failure is in the log)."""
    queue = build_job_queue(settings)
    worker = worker_for(settings)
    succeeded = 0
    for _ in range(_MAX_ROUNDS):
        batch = queue.receive(wait_seconds=0, max_messages=10)
        if not batch:
            return succeeded
        for received in batch:
            if worker.handle(received):
                queue.delete(received)
                succeeded += 1
    raise AssertionError(f"the jobs queue was not empty after {_MAX_ROUNDS} rounds")


def sqs_record(
    body: str, *, queue_arn: str, receive_count: int = 1, message_id: str | None = None
) -> dict[str, Any]:
    """One record of a Lambda SQS event, as the event source mapping sends it."""
    now = str(int(time.time() * 1000))
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": f"AQEB{uuid.uuid4().hex}",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": str(receive_count),
            "SentTimestamp": now,
            "SenderId": "AIDAEXAMPLE",
            "ApproximateFirstReceiveTimestamp": now,
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": SQS_REGION,
    }


def sqs_event(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A Lambda SQS event of ``records`` (sqs_record)."""
    return {"Records": list(records)}


def queue_arn(settings: Settings) -> str:
    return f"arn:aws:sqs:{SQS_REGION}:123456789012:{settings.jobs_queue_name}"
