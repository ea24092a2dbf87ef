"""The command line's configuration file: the server to use and a token for each server.

It lives in the user's config folder (``~/.config/mpycloud/config.json`` on Linux, or
``MPYCLOUD_CONFIG``), readable by its owner only (0600), since it holds bearer tokens.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from mpycloud.files import write_private

DEFAULT_URL = "http://127.0.0.1:8000"
APP_NAME = "mpycloud"


def config_path() -> Path:
    explicit = os.environ.get("MPYCLOUD_CONFIG")
    return Path(explicit) if explicit else platformdirs.user_config_path(APP_NAME) / "config.json"


def state_path() -> Path:
    """Where unfinished multipart uploads are remembered (see ``mpycloud.resume``)."""
    return platformdirs.user_state_path(APP_NAME) / "uploads.json"


@dataclass(frozen=True)
class CognitoApp:
    """The app client a token came from, to renew it with its refresh token."""

    client_id: str
    region: str
    endpoint_url: str | None = None


@dataclass(frozen=True)
class Credentials:
    token: str
    user: str = ""
    refresh_token: str | None = None
    cognito: CognitoApp | None = None

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Credentials:
        app = body.get("cognito")
        return cls(
            token=body["token"],
            user=body.get("user", ""),
            refresh_token=body.get("refresh_token"),
            cognito=CognitoApp(**app) if isinstance(app, dict) else None,
        )


@dataclass
class Config:
    default_url: str = DEFAULT_URL
    servers: dict[str, Credentials] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | None = None) -> Config:
        try:
            body = json.loads((path or config_path()).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        servers = body.get("servers") or {}
        return cls(
            default_url=body.get("default_url") or DEFAULT_URL,
            servers={url: Credentials.from_json(c) for url, c in servers.items()},
        )

    def save(self, path: Path | None = None) -> Path:
        target = path or config_path()
        body = {
            "default_url": self.default_url,
            "servers": {url: asdict(c) for url, c in self.servers.items()},
        }
        write_private(target, json.dumps(body, indent=2))
        return target
