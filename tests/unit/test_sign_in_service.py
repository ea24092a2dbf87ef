"""SignInService: credentials for a verified token, on a fake exchange and the real verifier."""

from __future__ import annotations

import pytest

from service.domain.errors import InvalidInput, InvalidToken, SignInFailed
from service.domain.model import Tokens
from service.usecases.sign_in import MAX_PASSWORD_LENGTH, SignInService
from tests.support.tokens import IssuerCredentials, TokenIssuer, verifier_for

KEYS = TokenIssuer()


class CountingCredentials(IssuerCredentials):
    calls: int = 0

    def sign_in(self, username: str, password: str) -> Tokens:
        self.calls += 1
        return super().sign_in(username, password)


def service(token_use: str = "access") -> tuple[SignInService, CountingCredentials]:
    credentials = CountingCredentials(KEYS, {"alice": "alice-password-1"}, expires_in=900)
    sessions = SignInService(credentials, verifier_for(KEYS, token_use), token_use=token_use)
    return sessions, credentials


@pytest.mark.parametrize("token_use", ["access", "id"])
def test_signing_in_gives_the_verified_caller_and_the_token_the_api_trusts(
    token_use: str,
) -> None:
    sessions, _ = service(token_use)

    signed_in = sessions.sign_in("  alice ", "alice-password-1")

    assert signed_in.caller.user_id == "alice"
    assert signed_in.expires_in == 900
    assert sessions.resume(signed_in.token) == signed_in.caller
    assert signed_in.token not in repr(signed_in)
    assert "expires_in=900" in repr(signed_in)


def test_the_identity_provider_s_tokens_never_show_in_a_repr() -> None:
    tokens = Tokens(access_token="access-secret", id_token="id-secret", expires_in=60)

    assert "secret" not in repr(tokens)
    assert repr(tokens) == "Tokens(expires_in=60)"


def test_a_wrong_password_is_refused() -> None:
    sessions, _ = service()

    with pytest.raises(SignInFailed):
        sessions.sign_in("alice", "guess")


@pytest.mark.parametrize(
    ("username", "password", "field"),
    [
        ("", "x", "username"),
        ("alice", "", "password"),
        ("a" * 129, "x", "username"),
        ("alice", "p" * (MAX_PASSWORD_LENGTH + 1), "password"),
    ],
)
def test_impossible_credentials_never_reach_the_provider(
    username: str, password: str, field: str
) -> None:
    sessions, credentials = service()

    with pytest.raises(InvalidInput) as refused:
        sessions.sign_in(username, password)

    assert refused.value.errors is not None
    assert field in refused.value.errors
    assert credentials.calls == 0


def test_an_expired_token_does_not_resume() -> None:
    sessions, _ = service()

    with pytest.raises(InvalidToken):
        sessions.resume(KEYS.token("alice", exp=1))


def test_signing_out_revokes_the_refresh_token_of_the_sign_in() -> None:
    sessions, credentials = service()
    signed_in = sessions.sign_in("alice", "alice-password-1")

    assert signed_in.refresh_token == credentials.issued[-1]
    assert signed_in.refresh_token not in repr(signed_in)
    sessions.sign_out(signed_in.refresh_token)

    assert credentials.revoked == [signed_in.refresh_token]
