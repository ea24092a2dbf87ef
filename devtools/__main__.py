"""Command line of the dev tools: ``python -m devtools {run-local,dev-token}``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import replace

from service.entrypoints.cli import run_configured
from service.settings import Settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    token = commands.add_parser(
        "dev-token",
        help="print a fresh access token for USER from the emulator's user pool: EMULATOR_URL's, "
        "else COGNITO_ENDPOINT_URL's or AWS_ENDPOINT_URL's, else make run's",
    )
    token.add_argument("user")
    local = commands.add_parser(
        "run-local", help="serve the API against an embedded S3 + DynamoDB (moto)"
    )
    local.add_argument("--host", default="127.0.0.1")
    local.add_argument("--port", type=int, default=8000)
    local.add_argument(
        "--emulator-port",
        type=int,
        help="the emulator's port, which must be free (default: 5000, or a free one if it is not)",
    )
    args = parser.parse_args(argv)
    try:
        return run_configured(lambda settings: _run(args, settings))
    except KeyboardInterrupt:
        return 130


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "dev-token":
        return _print_dev_token(settings, args.user)
    from devtools.run_local import PortTaken, run_local

    try:
        run_local(settings, args.host, args.port, args.emulator_port)
    except PortTaken as error:
        print(error, file=sys.stderr)
        return 1
    return 0


def _print_dev_token(settings: Settings, user: str) -> int:
    from botocore.exceptions import EndpointConnectionError

    from devtools.dev_tokens import PasswordChanged, dev_token
    from devtools.emulator_address import NoEmulator, emulator_to_ask
    from service.bootstrap import cognito_client
    from service.entrypoints.provisioning import create_user_pool

    configured = settings.cognito_endpoint_url or settings.aws_endpoint_url
    try:
        endpoint, source = emulator_to_ask(configured)
    except NoEmulator as error:
        print(f"dev-token: {error}", file=sys.stderr)
        return 1
    emulator = replace(settings, cognito_endpoint_url=endpoint)
    # An emulator accepts any credentials; boto3 still insists on having some.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    try:
        print(dev_token(cognito_client(emulator), create_user_pool(emulator), user))
    except PasswordChanged as error:
        print(f"dev-token: {error}", file=sys.stderr)
        return 1
    except EndpointConnectionError:
        print(
            f"dev-token: no emulator answers at {endpoint} ({source}): start make run, or set "
            "EMULATOR_URL to a running emulator's URL",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
