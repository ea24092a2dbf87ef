"""TokenVerifier with PyJWT: RS256 JWTs of an OIDC issuer (Amazon Cognito), checked against the
issuer's JWKS.

Checked: the signature (RS256 only: ``alg: none`` and HS256 are refused, so is a key the JWKS
does not hold), ``iss``, ``exp`` and ``nbf`` with a small leeway, ``token_use``, and the app
client (``client_id`` in access tokens, ``aud`` in ID tokens). The keys are the issuer's JWKS,
fetched and kept by ``service.adapters.signing_keys``.

PyJWT (and ``cryptography`` under it) is imported by the first token check, not at start-up:
a Lambda cold start, and every request without a token, does without it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from service.adapters.signing_keys import REFETCH_INTERVAL_SECONDS, JwkSetSource, SigningKeys
from service.domain import rules
from service.domain.errors import InvalidInput, InvalidToken, MalformedToken
from service.domain.model import Caller

__all__ = ["REFETCH_INTERVAL_SECONDS", "JwtVerifier"]

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
        jwks_client: JwkSetSource | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``jwks_client``: what fetches the JWKS (PyJWT's PyJWKClient of ``jwks_url`` unless
        given); ``clock``: what rate-limits the fetches."""
        self._issuer = issuer
        self._client_ids = frozenset(client_ids)
        self._expected_use = token_use
        self._user_claim = user_claim
        self._keys = SigningKeys(jwks_url, source=jwks_client, clock=clock)

    def verify(self, token: str) -> Caller:
        import jwt

        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise MalformedToken from None
        if header.get("alg") != "RS256":
            raise InvalidToken("The token must be signed with RS256")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise InvalidToken("The token names no signing key (kid)")
        key = self._keys.key(kid)
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
        except jwt.InvalidSignatureError as error:
            raise InvalidToken("The token's signature does not verify", detail=str(error)) from None
        except jwt.MissingRequiredClaimError as error:
            raise InvalidToken(f"The token has no {error.claim!r} claim") from None
        except jwt.PyJWTError as error:
            detail = f"{type(error).__name__}: {error}"
            raise InvalidToken("The token is invalid", detail=detail) from None
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
