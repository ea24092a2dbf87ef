"""Unsigned JWT-shaped tokens: the client reads their claims without checking them."""

from __future__ import annotations

import base64
import json
import time


def fake_jwt(username: str, expires_in: float = 3600) -> str:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    claims = {"username": username, "exp": int(time.time() + expires_in), "token_use": "access"}
    return f"{part({'alg': 'RS256'})}.{part(claims)}.c2lnbmF0dXJl"
