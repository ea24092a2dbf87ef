"""What every command shares: which server, which token, and how answers are printed."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, replace
from typing import Any

from rich.console import Console

from mpycloud.client import Client
from mpycloud.config import Config, Credentials, state_path
from mpycloud.errors import ApiError, MpycloudError
from mpycloud.resume import FileResumeStore
from mpycloud.signin import refresh
from mpycloud.tokens import expires_soon, token_subject

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def common_options() -> argparse.ArgumentParser:
    """Options every command takes (after its name: ``mpycloud ls --url ...``)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--url", help="the service (default: MPYCLOUD_URL, else the one `login` saved)"
    )
    return common


def ids_command(
    commands: Any, common: argparse.ArgumentParser, name: str, help: str
) -> argparse.ArgumentParser:
    """A command on image ids given as arguments, ``-`` reading more from stdin (read_ids)."""
    parser: argparse.ArgumentParser = commands.add_parser(name, parents=[common], help=help)
    parser.add_argument("ids", nargs="+", metavar="ID", help="image ids (- reads them from stdin)")
    return parser


@dataclass
class Context:
    url: str
    config: Config
    credentials: Credentials | None

    @property
    def token(self) -> str | None:
        return self.credentials.token if self.credentials else None

    @property
    def user(self) -> str:
        if self.credentials is None:
            return ""
        return self.credentials.user or token_subject(self.credentials.token)

    def client(self, **options: Any) -> Client:
        self._renew_if_needed()
        return Client(self.url, self.token, resume=FileResumeStore(state_path()), **options)

    def _renew_if_needed(self) -> None:
        """A saved Cognito token about to expire is renewed with its refresh token."""
        saved = self.credentials
        if saved is None or saved.cognito is None or saved.refresh_token is None:
            return
        if not expires_soon(saved.token):
            return
        renewed = refresh(saved.cognito, saved.refresh_token)
        self.credentials = replace(saved, token=renewed.access_token)
        if self.config.servers.get(self.url) == saved:
            self.config.servers[self.url] = self.credentials
            self.config.save()


def context(args: argparse.Namespace) -> Context:
    config = Config.load()
    url = (args.url or os.environ.get("MPYCLOUD_URL") or config.default_url).rstrip("/")
    credentials = config.servers.get(url)
    from_env = os.environ.get("MPYCLOUD_TOKEN")
    if from_env:
        credentials = Credentials(token=from_env, user=token_subject(from_env))
    return Context(url, config, credentials)


def print_json(value: Any) -> None:
    # Plain print: rich would wrap long lines and break the JSON for a pipe.
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def describe(error: BaseException) -> str:
    """One line for a failure: the API's status and message, with its field errors."""
    if isinstance(error, ApiError):
        text = f"{error.status} {error.message}"
        if error.errors:
            text += f" {json.dumps(error.errors, ensure_ascii=False)}"
        return text
    if isinstance(error, MpycloudError):
        return str(error)
    if isinstance(error, OSError):
        return f"{error.strerror or error}: {error.filename or ''}".strip(": ")
    return repr(error)


def read_ids(given: list[str]) -> list[str]:
    """Ids from the command line; ``-`` reads more from standard input (one per line or
    separated by spaces), e.g. from ``mpycloud ls --ids-only``."""
    ids: list[str] = []
    for item in given:
        ids.extend(sys.stdin.read().split() if item == "-" else [item])
    return list(dict.fromkeys(ids))


def human_bytes(count: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if abs(count) < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} TB"


def counted(count: int, noun: str) -> str:
    """``1 file``, ``2 files``: the nouns this command counts take an s."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def split_tags(values: list[str]) -> list[str]:
    """``--tags a,b --tags c`` -> [a, b, c]."""
    return [tag.strip() for value in values for tag in value.split(",") if tag.strip()]
