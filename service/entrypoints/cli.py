"""Command line: ``python -m service {create-resources,sweep,worker,dead-letters}``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence

from service.settings import Settings, SettingsError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser(
        "create-resources",
        help="create the S3 bucket and DynamoDB table; on an emulator, with sign-in on and no "
        "AUTH_ISSUER, also a Cognito user pool",
    )
    create.add_argument(
        "--auth-env", metavar="FILE", help="write the AUTH_* settings of the user pool to FILE"
    )
    sweep = commands.add_parser(
        "sweep", help="remove leftovers of interrupted uploads and finish interrupted deletes"
    )
    sweep.add_argument(
        "--grace-seconds",
        type=int,
        help="only leftovers of uploads older than this (default: SWEEP_GRACE_SECONDS)",
    )
    commands.add_parser(
        "worker", help="take jobs from the queue until SIGTERM or Ctrl+C (the ECS worker)"
    )
    dead = commands.add_parser(
        "dead-letters", help="list the jobs in the dead-letter queue (as JSON lines), leaving them"
    )
    dead.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    args = parser.parse_args(argv)
    return run_configured(lambda settings: _run(args, settings))


def run_configured(command: Callable[[Settings], int]) -> int:
    """Run ``command`` with the settings of the environment and logging configured; a
    configuration error is one line and exit status 2."""
    try:
        settings = Settings.from_env()
        from service.entrypoints.log import configure_logging

        configure_logging(settings.log_level)
        return command(settings)
    except SettingsError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "create-resources":
        from service.entrypoints.provisioning import (
            create_resources,
            create_user_pool,
            is_emulator,
        )

        create_resources(settings)
        print(f"bucket {settings.s3_bucket_name} and table {settings.dynamodb_table_name} ready")
        cognito = settings.cognito_endpoint_url or settings.aws_endpoint_url
        if settings.auth_mode == "jwt" and settings.auth_issuer is None and is_emulator(cognito):
            pool = create_user_pool(settings)
            lines = "".join(f"{name}={value}\n" for name, value in pool.environment().items())
            print(f"user pool {pool.pool_id} ready:\n{lines}", end="")
            if args.auth_env:
                with open(args.auth_env, "w", encoding="utf-8") as env_file:
                    env_file.write(lines)
    elif args.command == "worker":
        run_worker(settings)
    elif args.command == "dead-letters":
        from msgspec.structs import asdict

        from service.bootstrap import build_job_queue

        for letter in build_job_queue(settings).dead_letters(args.limit):
            print(json.dumps(asdict(letter)))
    else:
        from msgspec.structs import asdict

        from service.bootstrap import build_image_service, build_upload_service

        images = build_image_service(settings)
        report = images.sweep(args.grace_seconds)
        uploads = build_upload_service(settings, images).sweep(args.grace_seconds or 0)
        print(json.dumps(asdict(report) | {"expired_uploads": uploads}))
    return 0


def run_worker(settings: Settings) -> None:
    """The worker until SIGTERM (ECS stopping the task) or SIGINT: the job in hand first."""
    import signal
    import threading

    from service.bootstrap import build_job_processor, build_job_queue
    from service.entrypoints.worker import Worker

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda number, frame: stop.set())
    worker = Worker(
        build_job_processor(settings),
        build_job_queue(settings),
        wait_seconds=settings.worker_wait_seconds,
    )
    worker.run(stop)
