"""The worker on AWS Lambda: ``python -m awslambdaric service.entrypoints.lambda_worker.handler``
(the same image as the API, another ImageConfig.Command), called by the SQS event source
mapping with ``ReportBatchItemFailures``: see ``service.entrypoints.worker``."""

from __future__ import annotations

from typing import Any

from service.entrypoints.start_up import collector_paused

with collector_paused():
    from service.bootstrap import build_job_processor, build_job_queue
    from service.entrypoints.log import configure_logging
    from service.entrypoints.worker import Worker
    from service.settings import Settings

    settings = Settings.from_env()
    configure_logging(settings.log_level)
    worker = Worker(
        build_job_processor(settings),
        build_job_queue(settings),
        wait_seconds=settings.worker_wait_seconds,
    )


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return worker.handle_records(event.get("Records", []))
