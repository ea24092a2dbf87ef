"""The worker, the image's third mode: jobs from the queue, one at a time.

* ECS (and ``make run``, in a thread): ``python -m service worker``, a long poll. SIGTERM
  stops it taking jobs; the job in hand is finished first.
* Lambda: ``service.entrypoints.lambda_worker.handler``, which the SQS event source mapping
  calls with a batch; a job that fails is reported alone (``ReportBatchItemFailures``) and
  comes back after the visibility timeout, the others are deleted.

Either way a job that fails is delivered again, up to the queue's ``maxReceiveCount``, then
moved to the dead letters (``python -m service dead-letters`` lists them).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

from service.adapters.sqs_jobs import Received, SqsJobQueue
from service.domain.jobs import JobUnreadable
from service.usecases.processing import JobProcessor

log = logging.getLogger(__name__)
# Between two empty short polls (WORKER_WAIT_SECONDS=0: the embedded emulator, which serves
# one request at a time and must not be held by a long poll).
IDLE_SECONDS = 0.5
# After the queue itself failed to answer: not a tight loop against an outage.
BACKOFF_SECONDS = 5.0


class Worker:
    def __init__(self, processor: JobProcessor, queue: SqsJobQueue, *, wait_seconds: int) -> None:
        self._processor = processor
        self._queue = queue
        self._wait_seconds = wait_seconds

    def handle(self, received: Received) -> bool:
        """Run the job ``received`` holds; False when it failed (it will come back)."""
        try:
            delivery = self._queue.delivery(received)
        except JobUnreadable:
            # Left to fail its deliveries: in the dead letters, someone can look at it.
            log.error("message %s holds no job: %r", received.message_id, received.body[:200])
            return False
        try:
            self._processor.run(delivery)
        except Exception:
            log.exception(
                "job %s failed (delivery %d); it will be delivered again",
                delivery.job.encode(),
                delivery.attempt,
            )
            return False
        return True

    def run(self, stop: threading.Event) -> None:
        """Take jobs until ``stop`` is set; the job in hand is finished first."""
        log.info("worker taking jobs from %s", self._queue.name)
        while not stop.is_set():
            try:
                batch = self._queue.receive(wait_seconds=self._wait_seconds)
            except Exception:
                log.exception("could not receive jobs; trying again")
                stop.wait(BACKOFF_SECONDS)
                continue
            if not batch and self._wait_seconds == 0:
                stop.wait(IDLE_SECONDS)
            for received in batch:
                started = time.monotonic()
                if self.handle(received):
                    self._delete(received)
                log.debug("job took %.3f s", time.monotonic() - started)
        log.info("worker stopped")

    def handle_records(self, records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
        """A Lambda SQS batch: the failed ones, for the event source mapping to retry."""
        failed = []
        for record in records:
            received = Received(
                message_id=str(record["messageId"]),
                body=str(record.get("body", "")),
                receive_count=int(record.get("attributes", {}).get("ApproximateReceiveCount", 1)),
            )
            if not self.handle(received):
                failed.append({"itemIdentifier": received.message_id})
        return {"batchItemFailures": failed}

    def _delete(self, received: Received) -> None:
        try:
            self._queue.delete(received)
        except Exception:
            # Delivered again later, and then found finished: no harm but the work.
            log.warning("could not delete job message %s", received.message_id)
