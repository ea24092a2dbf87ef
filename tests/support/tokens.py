"""An issuer of test tokens: RSA keys made here, a JWKS, and Cognito-shaped JWTs. No network."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt import PyJWKSet

from service.adapters.jwt_verifier import JwtVerifier
from service.domain.errors import SignInFailed, StorageUnavailable
from service.domain.model import Tokens

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


def verifier_for(
    issuer: TokenIssuer,
    token_use: str = "access",
    *,
    clock: Callable[[], float] = time.monotonic,
) -> JwtVerifier:
    """The production verifier, handed ``issuer``'s keys instead of fetching a JWKS."""
    return JwtVerifier(
        issuer=ISSUER,
        jwks_url="https://unused.example/jwks.json",
        client_ids=(CLIENT_ID,),
        token_use=token_use,
        # ID tokens name the user in cognito:username (AUTH_USER_CLAIM).
        user_claim="username" if token_use == "access" else "cognito:username",
        jwks_client=issuer,
        clock=clock,
    )


@contextmanager
def served_jwks(issuer: TokenIssuer) -> Iterator[str]:
    """The issuer's JWKS over HTTP on 127.0.0.1, as a real issuer serves it; yields its URL."""
    with jwks_endpoint(issuer) as endpoint:
        yield endpoint.url


class JwksEndpoint:
    """An issuer's JWKS endpoint over HTTP on 127.0.0.1 (``url``) whose answer the test sets:
    ``body`` (the issuer's JWKS at first) with ``content_type``; ``fetches`` counts the GETs."""

    def __init__(self, issuer: TokenIssuer) -> None:
        self.url = ""
        self.fetches = 0
        self.body, self.content_type = b"", ""
        self.serve(issuer)

    def serve(self, issuer: TokenIssuer) -> None:
        """Answer ``issuer``'s current JWKS from now on."""
        self.body, self.content_type = json.dumps(issuer.jwks()).encode(), "application/json"


@contextmanager
def jwks_endpoint(issuer: TokenIssuer) -> Iterator[JwksEndpoint]:
    """A JwksEndpoint serving ``issuer``'s keys until the test changes its answer."""
    endpoint = JwksEndpoint(issuer)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            endpoint.fetches += 1
            body, content_type = endpoint.body, endpoint.content_type
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    # shutdown() waits until the loop next looks, by default half a second: each test's end.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    endpoint.url = f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    try:
        yield endpoint
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class IssuerCredentials:
    """A CredentialExchange that knows some passwords and signs tokens with ``issuer``, as
    Cognito's USER_PASSWORD_AUTH would answer."""

    issuer: TokenIssuer
    passwords: dict[str, str]
    expires_in: int = 3600
    issued: list[str] = field(default_factory=list)  # the refresh tokens, in order
    revoked: list[str] = field(default_factory=list)
    revocation_fails: bool = False

    def sign_in(self, username: str, password: str) -> Tokens:
        if self.passwords.get(username) != password:
            raise SignInFailed("Wrong user name or password")
        self.issued.append(f"refresh-{username}-{secrets.token_urlsafe(16)}")
        return Tokens(
            access_token=self.issuer.token(username),
            id_token=self.issuer.token(username, token_use="id"),
            expires_in=self.expires_in,
            refresh_token=self.issued[-1],
        )

    def revoke(self, refresh_token: str) -> None:
        if self.revocation_fails:
            raise StorageUnavailable("Could not revoke the sign-in")
        self.revoked.append(refresh_token)
