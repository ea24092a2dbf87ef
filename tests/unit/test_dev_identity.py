"""The development sign-in of ``make run``: its passwords meet a user pool's default policy."""

from __future__ import annotations

import secrets
import string
from typing import Any

import pytest

from service.dev_identity import UserPool, dev_token


class RecordingCognito:
    """Just enough of a Cognito client for ``dev_token``: the user exists; passwords are kept."""

    def __init__(self) -> None:
        self.passwords: list[str] = []

    def admin_get_user(self, **_: Any) -> dict[str, Any]:
        return {}

    def admin_set_user_password(self, *, Password: str, **_: Any) -> None:
        self.passwords.append(Password)

    def initiate_auth(self, **_: Any) -> dict[str, Any]:
        return {"AuthenticationResult": {"AccessToken": "token"}}


@pytest.mark.parametrize("random_part", ["a" * 24, "Z" * 24, "_" * 24, "7" * 24])
def test_a_dev_password_has_every_kind_of_character_whatever_the_random_part(
    monkeypatch: pytest.MonkeyPatch, random_part: str
) -> None:
    # GIVEN a random part without digits (or without letters, or symbols only)
    monkeypatch.setattr(secrets, "token_urlsafe", lambda _: random_part)
    cognito = RecordingCognito()
    pool = UserPool("pool", "client", "https://issuer", "https://issuer/jwks")
    # WHEN a token is made, THEN the password meets Cognito's default policy
    assert dev_token(cognito, pool, "user123") == "token"  # type: ignore[arg-type]
    (password,) = cognito.passwords
    assert len(password) >= 12
    assert any(c in string.ascii_uppercase for c in password)
    assert any(c in string.ascii_lowercase for c in password)
    assert any(c in string.digits for c in password)
    assert any(c in string.punctuation for c in password)
