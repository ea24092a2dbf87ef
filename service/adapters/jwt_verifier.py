"""TokenVerifier with PyJWT: RS256 JWTs of an OIDC issuer (Amazon Cognito), checked against the
issuer's JWKS.

Checked: the signature (RS256 only: ``alg: none`` and HS256 are refused, so is a key the JWKS
does not hold), ``iss``, ``exp`` and ``nbf`` with a small leeway, ``token_use``, and the app
client (``client_id`` in access tokens, ``aud`` in ID tokens). The JWKS is fetched once and
kept; a token signed with an unknown ``kid`` (a key rotation) triggers at most one refetch a
minute, so forged ``kid`` values cannot make the service hammer the issuer.

PyJWT (and ``cryptography`` under it) is imported by the first token check, not at start-up:
a Lambda cold start, and every request without a token, does without it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from service.domain import rules
from service.domain.errors import InvalidInput, InvalidToken, MalformedToken, StorageUnavailable
from service.domain.model import Caller

if TYPE_CHECKING:
    from jwt import PyJWK, PyJWKClient

REFETCH_INTERVAL_SECONDS = 60.0
LEEWAY_SECONDS = 30
GROUPS_CLAIM = "cognito:groups"


class JwtVerifier:
    def __init__(
        self,
        *,
        issuer: str,
        jwks_url: str,
        client_ids: tuple[str, ...],
        token_use: str = "access",  # noqa: S107 - a claim's value, not a secret
        user_claim: str = "username",
        jwks_client: PyJWKClient | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._issuer = issuer
        self._client_ids = frozenset(client_ids)
        self._expected_use = token_use
        self._user_claim = user_claim
        self._jwks_url = jwks_url
        self._jwks = jwks_client
        self._clock = clock
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at: float | None = None
        # Why the last fetch failed (None: it did not): until the next one may be made, a key
        # not held is unknown because the keys could not be fetched, not because of the token.
        self._fetch_failure: str | None = None
        self._lock = threading.Lock()

    def verify(self, token: str) -> Caller:
        import jwt

        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise MalformedToken from None
        if header.get("alg") != "RS256":
            raise InvalidToken("The token must be signed with RS256")
        key = self._signing_key(header.get("kid"))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                issuer=self._issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "token_use"], "verify_aud": False},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("The token has expired") from None
        except jwt.ImmatureSignatureError:
            raise InvalidToken("The token is not valid yet") from None
        except jwt.InvalidIssuerError:
            raise InvalidToken("The token was issued by another issuer") from None
        except jwt.PyJWTError as error:
            raise InvalidToken(f"The token is invalid ({error})") from None
        return self._caller(claims)

    def _caller(self, claims: dict[str, Any]) -> Caller:
        if claims.get("token_use") != self._expected_use:
            raise InvalidToken(f"An {self._expected_use} token is expected")
        client_claim = "aud" if self._expected_use == "id" else "client_id"
        audience = claims.get(client_claim)
        audiences = audience if isinstance(audience, list) else [audience]
        if not self._client_ids.intersection(a for a in audiences if isinstance(a, str)):
            raise InvalidToken("The token was issued to another app client")
        user = claims.get(self._user_claim)
        try:
            user_id = rules.user_id(user if isinstance(user, str) else "")
        except InvalidInput:
            raise InvalidToken(f"The token's {self._user_claim!r} is not a user id") from None
        groups = claims.get(GROUPS_CLAIM, [])
        return Caller(
            user_id=user_id,
            groups=frozenset(g for g in groups if isinstance(g, str))
            if isinstance(groups, list)
            else frozenset(),
        )

    def _signing_key(self, kid: object) -> PyJWK:
        if not isinstance(kid, str):
            raise InvalidToken("The token names no signing key (kid)")
        with self._lock:
            key = self._keys.get(kid)
            if key is None and self._may_refetch():
                self._refetch()
                key = self._keys.get(kid)
            failure = self._fetch_failure
        if key is None and failure is not None:
            raise StorageUnavailable(failure)
        if key is None:
            raise InvalidToken("The token's signing key (kid) is unknown")
        return key

    def _may_refetch(self) -> bool:
        return (
            self._fetched_at is None or self._clock() - self._fetched_at >= REFETCH_INTERVAL_SECONDS
        )

    def _refetch(self) -> None:
        import jwt

        self._fetched_at = self._clock()
        if self._jwks is None:
            self._jwks = jwt.PyJWKClient(self._jwks_url, cache_jwk_set=False, timeout=5)
        try:
            jwk_set = self._jwks.get_jwk_set(refresh=True)
        except jwt.PyJWKClientError as error:
            self._fetch_failure = f"Could not fetch the issuer's signing keys ({error})"
            raise StorageUnavailable(self._fetch_failure) from None
        self._fetch_failure = None
        self._keys = {key.key_id: key for key in jwk_set.keys if key.key_id}
