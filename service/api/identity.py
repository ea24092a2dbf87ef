"""Who is making the request. For now the client names the user (as in the original design);
an authentication layer replaces this one function without touching the endpoints."""

from __future__ import annotations

from service import rules


def resolve_user(claimed_user_id: str) -> str:
    return rules.user_id(claimed_user_id.strip())
