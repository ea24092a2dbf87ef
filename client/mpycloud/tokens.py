"""What a bearer token says about itself, read without checking it (the service checks it):
whose it is, to name the user's own images, and when it expires, to renew it in time."""

from __future__ import annotations

import base64
import json
import time
from typing import Any


def token_claims(token: str | None) -> dict[str, Any]:
    """The JWT's claims, or {} for anything that is not a JWT."""
    try:
        payload = (token or "").split(".")[1]
        decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return decoded if isinstance(decoded, dict) else {}


def token_subject(token: str | None) -> str:
    """The user a token names: Cognito's ``username`` (the service's default user claim)."""
    claims = token_claims(token)
    return str(claims.get("username") or claims.get("cognito:username") or claims.get("sub") or "")


def expires_soon(token: str | None, margin: float = 60.0, now: float | None = None) -> bool:
    expiry = token_claims(token).get("exp")
    if not isinstance(expiry, int | float):
        return False
    return expiry - margin <= (time.time() if now is None else now)
