"""SignInService: signing in with a user name and password, for the gallery's sign-in cookie.

The identity provider (Cognito) checks the credentials and issues the tokens; the service then
verifies the token it keeps exactly as it verifies a bearer token, so a signed-in visitor is
never trusted more than the API would trust the same token. Nothing is stored server-side: the
token is the sign-in, and it ends when the token expires. The refresh token is kept only to be
revoked at sign-out (it never renews the sign-in); the access token, checked against the
issuer's keys alone, stays valid until it expires.
"""

from __future__ import annotations

import msgspec

from service.domain.errors import InvalidInput
from service.domain.model import Caller
from service.domain.rules import MAX_USER_ID_LENGTH
from service.ports import CredentialExchange, TokenVerifier

# Cognito accepts passwords of at most 256 characters; anything longer cannot be right.
MAX_PASSWORD_LENGTH = 256


class SignedIn(msgspec.Struct, frozen=True):
    """A gallery sign-in: who signed in, their token and its lifetime in seconds, and the
    refresh token that sign-out revokes (when the provider issued one)."""

    caller: Caller
    token: str
    expires_in: int
    refresh_token: str | None = None

    def __repr__(self) -> str:  # the token is a credential: never in a log line
        return f"SignedIn(caller={self.caller!r}, expires_in={self.expires_in})"


class SignInService:
    def __init__(
        self,
        exchange: CredentialExchange,
        verifier: TokenVerifier,
        *,
        token_use: str = "access",  # noqa: S107 - which token the API trusts, not a secret
    ) -> None:
        self._exchange = exchange
        self._verifier = verifier
        self._token_use = token_use

    def sign_in(self, username: str, password: str) -> SignedIn:
        username = username.strip()
        problems: dict[str, list[str]] = {}
        if not 1 <= len(username) <= MAX_USER_ID_LENGTH:
            problems["username"] = [f"1 to {MAX_USER_ID_LENGTH} characters"]
        if not 1 <= len(password) <= MAX_PASSWORD_LENGTH:
            problems["password"] = [f"1 to {MAX_PASSWORD_LENGTH} characters"]
        if problems:
            raise InvalidInput("Give a user name and a password", problems)
        tokens = self._exchange.sign_in(username, password)
        token = tokens.id_token if self._token_use == "id" else tokens.access_token  # noqa: S105
        return SignedIn(
            self._verifier.verify(token), token, tokens.expires_in, tokens.refresh_token
        )

    def resume(self, token: str) -> Caller:
        """The caller a kept token names; InvalidToken once it has expired."""
        return self._verifier.verify(token)

    def sign_out(self, refresh_token: str) -> None:
        """Revoke the sign-in's refresh token; StorageUnavailable if the provider cannot be
        asked."""
        self._exchange.revoke(refresh_token)
