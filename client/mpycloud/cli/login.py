"""``mpycloud login`` and ``logout``: a token for a server, kept in the config file (0600)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from datetime import UTC, datetime
from typing import Any

from mpycloud.cli.common import context, err, out
from mpycloud.config import CognitoApp, Credentials
from mpycloud.errors import Unauthorized
from mpycloud.signin import (
    EMULATOR_PASSWORD,
    EMULATOR_REGION,
    SignedIn,
    emulator_sign_in,
    password_sign_in,
)
from mpycloud.tokens import token_claims, token_subject

EMULATOR_URL = "http://127.0.0.1:5000"
EMULATOR_USER = "user123"


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    login = commands.add_parser(
        "login",
        parents=[common],
        help="sign in and keep the token for this server",
        description="One of: --token (a token you have, e.g. make run's $TOKEN), --emulator "
        "(make run's embedded Cognito), --client-id (Amazon Cognito, USER_PASSWORD_AUTH).",
    )
    how = login.add_mutually_exclusive_group(required=True)
    how.add_argument("--token", help="keep this bearer token")
    how.add_argument(
        "--emulator",
        nargs="?",
        const=EMULATOR_URL,
        metavar="URL",
        help=f"the embedded emulator's user pool (default {EMULATOR_URL}), with the password "
        "make run gives its users unless --password-stdin",
    )
    how.add_argument("--client-id", help="the Cognito app client (public, no secret)")
    login.add_argument("username", nargs="?", help=f"who signs in (emulator: {EMULATOR_USER})")
    login.add_argument(
        "--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    )
    login.add_argument("--cognito-endpoint", help="another Cognito endpoint (tests, emulators)")
    login.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    login.set_defaults(run=run_login)

    logout = commands.add_parser("logout", parents=[common], help="forget this server's token")
    logout.set_defaults(run=run_logout)


def run_login(args: argparse.Namespace) -> int:
    ctx = context(args)
    if args.token:
        credentials = Credentials(token=args.token, user=token_subject(args.token))
    elif args.emulator:
        user = args.username or EMULATOR_USER
        password = _read_password() if args.password_stdin else EMULATOR_PASSWORD
        region = args.region or EMULATOR_REGION
        credentials = _credentials_from(
            emulator_sign_in(args.emulator, user, password, region), user
        )
    else:
        if not args.username or not args.region:
            err.print("--client-id needs a USERNAME and --region (or AWS_REGION)")
            return 2
        password = (
            _read_password()
            if args.password_stdin
            else getpass.getpass(f"Password for {args.username}: ")
        )
        app = CognitoApp(args.client_id, args.region, args.cognito_endpoint)
        credentials = _credentials_from(
            password_sign_in(app, args.username, password), args.username
        )
    with ctx.client() as client:
        client.token = credentials.token
        try:
            client.list_images(limit=1)
        except Unauthorized as error:
            err.print(f"{ctx.url} refuses this token: {error.message}")
            return 1
    ctx.config.servers[ctx.url] = credentials
    ctx.config.default_url = ctx.url
    path = ctx.config.save()
    out.print(
        f"signed in to {ctx.url} as {credentials.user or '?'}{_expiry_note(credentials.token)}"
    )
    out.print(f"token kept in {path}")
    return 0


def _read_password() -> str:
    return sys.stdin.readline().rstrip("\n")


def _credentials_from(signed: SignedIn, user: str) -> Credentials:
    return Credentials(signed.access_token, user, signed.refresh_token, signed.app)


def _expiry_note(token: str) -> str:
    expiry = token_claims(token).get("exp")
    if not isinstance(expiry, int | float):
        return ""
    return f" (valid until {datetime.fromtimestamp(expiry, UTC).astimezone():%H:%M})"


def run_logout(args: argparse.Namespace) -> int:
    ctx = context(args)
    if ctx.config.servers.pop(ctx.url, None) is None:
        err.print(f"no token kept for {ctx.url}")
        return 1
    ctx.config.save()
    out.print(f"forgot the token for {ctx.url}")
    return 0
