"""Command line: ``python -m service {create-resources,sweep,run-local,dev-token}``."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

from service.settings import Settings, SettingsError

log = logging.getLogger("service")


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
    token = commands.add_parser(
        "dev-token", help="print a fresh access token for USER from the emulator's user pool"
    )
    token.add_argument("user")
    sweep = commands.add_parser(
        "sweep", help="remove leftovers of interrupted uploads and finish interrupted deletes"
    )
    sweep.add_argument(
        "--grace-seconds",
        type=int,
        help="only leftovers of uploads older than this (default: SWEEP_GRACE_SECONDS)",
    )
    local = commands.add_parser(
        "run-local", help="serve the API against an embedded S3 + DynamoDB (moto)"
    )
    local.add_argument("--host", default="127.0.0.1")
    local.add_argument("--port", type=int, default=8000)
    local.add_argument("--emulator-port", type=int, default=5000)
    args = parser.parse_args(argv)

    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    from service.log import configure_logging

    configure_logging(settings.log_level)

    try:
        return _run(args, settings)
    except SettingsError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "create-resources":
        from service.dev_identity import is_emulator
        from service.provisioning import create_resources, create_user_pool

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
    elif args.command == "dev-token":
        from service.bootstrap import cognito_client
        from service.dev_identity import dev_token
        from service.provisioning import create_user_pool

        pool = create_user_pool(settings)
        print(dev_token(cognito_client(settings), pool, args.user))
    elif args.command == "sweep":
        from msgspec.structs import asdict

        from service.bootstrap import build_image_service, build_upload_service

        images = build_image_service(settings)
        report = images.sweep(args.grace_seconds)
        uploads = build_upload_service(settings, images).sweep(args.grace_seconds or 0)
        print(json.dumps(asdict(report) | {"expired_uploads": uploads}))
    else:
        from service.local import run_local

        run_local(settings, args.host, args.port, args.emulator_port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
