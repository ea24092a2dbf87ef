"""An issuer of test tokens: RSA keys made here, a JWKS, and Cognito-shaped JWTs. No network."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt import PyJWKSet

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool"
CLIENT_ID = "test-app-client"


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class TokenIssuer:
    """Signs tokens like Cognito's; ``jwks`` is what its JWKS endpoint would serve."""

    kid: str = "test-key-1"
    key: rsa.RSAPrivateKey = field(default_factory=_new_key)
    fetches: int = 0

    def public_pem(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    def get_jwk_set(self, refresh: bool = False) -> PyJWKSet:
        """Stands in for PyJWKClient: counts the fetches."""
        self.fetches += 1
        return PyJWKSet.from_dict(self.jwks())

    def claims(
        self, user: str = "alice", token_use: str = "access", **extra: Any
    ) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "sub": f"sub-{user}",
            "token_use": token_use,
            "iat": now,
            "auth_time": now,
            "exp": now + 3600,
        }
        if token_use == "access":
            claims |= {"client_id": CLIENT_ID, "username": user}
        else:
            claims |= {"aud": CLIENT_ID, "cognito:username": user}
        return claims | extra

    def token(self, user: str = "alice", *, token_use: str = "access", **extra: Any) -> str:
        return self.sign(self.claims(user, token_use, **extra))

    def sign(self, claims: dict[str, Any], *, kid: str | None = None) -> str:
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": kid or self.kid})
