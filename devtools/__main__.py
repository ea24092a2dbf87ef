"""Command line of the dev tools: ``python -m devtools {run-local,dev-token}``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from service.entrypoints.cli import run_configured
from service.settings import Settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    token = commands.add_parser(
        "dev-token", help="print a fresh access token for USER from the emulator's user pool"
    )
    token.add_argument("user")
    local = commands.add_parser(
        "run-local", help="serve the API against an embedded S3 + DynamoDB (moto)"
    )
    local.add_argument("--host", default="127.0.0.1")
    local.add_argument("--port", type=int, default=8000)
    local.add_argument("--emulator-port", type=int, default=5000)
    args = parser.parse_args(argv)
    return run_configured(lambda settings: _run(args, settings))


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "dev-token":
        from devtools.dev_tokens import dev_token
        from service.bootstrap import cognito_client
        from service.entrypoints.provisioning import create_user_pool

        pool = create_user_pool(settings)
        print(dev_token(cognito_client(settings), pool, args.user))
    else:
        from devtools.run_local import run_local

        run_local(settings, args.host, args.port, args.emulator_port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
