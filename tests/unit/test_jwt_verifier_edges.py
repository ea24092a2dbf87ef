"""The bearer-token check when the issuer's JWKS cannot be fetched: the service is unavailable
(503), it never calls a good token bad (401), which would sign the gallery's visitors out."""

from __future__ import annotations

import jwt
import pytest
from jwt import PyJWKClient, PyJWKSet

from service.adapters.jwt_verifier import REFETCH_INTERVAL_SECONDS, JwtVerifier
from service.domain.errors import InvalidToken, StorageUnavailable
from service.domain.model import Caller
from tests.support.ports import free_port
from tests.support.tokens import (
    CLIENT_ID,
    ISSUER,
    JwksEndpoint,
    TokenIssuer,
    jwks_endpoint,
    served_jwks,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FlakyJwks:
    """The issuer's JWKS endpoint, failing its first ``failures`` fetches."""

    def __init__(self, issuer: TokenIssuer, failures: int) -> None:
        self.issuer = issuer
        self.failures = failures
        self.fetches = 0

    def get_jwk_set(self, refresh: bool = False) -> PyJWKSet:
        self.fetches += 1
        if self.fetches <= self.failures:
            raise jwt.PyJWKClientConnectionError("Fail to fetch data from the url, err: timed out")
        return self.issuer.get_jwk_set(refresh)


def verifier_with(jwks: object, clock: Clock) -> JwtVerifier:
    return JwtVerifier(
        issuer=ISSUER,
        jwks_url="https://unused.example/jwks.json",
        client_ids=(CLIENT_ID,),
        jwks_client=jwks,  # type: ignore[arg-type]
        clock=clock,
    )


def test_an_unreachable_jwks_endpoint_is_storage_unavailable() -> None:
    issuer = TokenIssuer()
    closed = f"http://127.0.0.1:{free_port()}/.well-known/jwks.json"
    verifier = JwtVerifier(
        issuer=ISSUER,
        jwks_url=closed,
        client_ids=(CLIENT_ID,),
        jwks_client=PyJWKClient(closed, cache_jwk_set=False, timeout=5),
    )

    with pytest.raises(StorageUnavailable, match="signing keys"):
        verifier.verify(issuer.token())


def test_the_jwks_served_over_http_verifies_the_issuers_tokens() -> None:
    issuer = TokenIssuer()
    with served_jwks(issuer) as url:
        verifier = JwtVerifier(issuer=ISSUER, jwks_url=url, client_ids=(CLIENT_ID,))

        assert verifier.verify(issuer.token("dora")) == Caller("dora")


def test_after_a_failed_fetch_good_tokens_stay_unverifiable_not_invalid() -> None:
    issuer, clock = TokenIssuer(), Clock()
    jwks = FlakyJwks(issuer, failures=1)
    verifier = verifier_with(jwks, clock)
    token = issuer.token()

    with pytest.raises(StorageUnavailable):
        verifier.verify(token)
    # Within the minute no new fetch is made, and the token is still not called invalid: its
    # key is unknown only because the keys could not be fetched.
    clock.now += REFETCH_INTERVAL_SECONDS / 2
    with pytest.raises(StorageUnavailable):
        verifier.verify(token)
    assert jwks.fetches == 1

    clock.now += REFETCH_INTERVAL_SECONDS / 2
    assert verifier.verify(token) == Caller("alice")
    assert jwks.fetches == 2


def test_keys_fetched_before_an_outage_keep_verifying_during_it() -> None:
    issuer, clock = TokenIssuer(), Clock()
    jwks = FlakyJwks(issuer, failures=0)
    verifier = verifier_with(jwks, clock)
    assert verifier.verify(issuer.token()) == Caller("alice")
    jwks.failures = 2  # the endpoint goes down from the next fetch on

    clock.now += REFETCH_INTERVAL_SECONDS
    with pytest.raises(StorageUnavailable):
        verifier.verify(issuer.sign(issuer.claims(), kid="rotated-in"))  # a refetch, failed
    assert verifier.verify(issuer.token("bob")) == Caller("bob")  # the known key still works
    assert jwks.fetches == 2


def test_once_the_keys_are_fetched_an_unknown_kid_is_an_invalid_token() -> None:
    issuer, clock = TokenIssuer(), Clock()
    jwks = FlakyJwks(issuer, failures=1)
    verifier = verifier_with(jwks, clock)
    with pytest.raises(StorageUnavailable):
        verifier.verify(issuer.token())
    clock.now += REFETCH_INTERVAL_SECONDS
    assert verifier.verify(issuer.token()) == Caller("alice")

    with pytest.raises(InvalidToken, match="kid"):
        verifier.verify(issuer.sign(issuer.claims(), kid="forged"))


# --- A JWKS endpoint that answers 200 with something else than a JWKS ---------------------

NOT_A_JWKS = [
    pytest.param(b"<html><body>Service moved</body></html>", "text/html", id="html"),
    pytest.param(b'{"keys": []}', "application/json", id="no-keys"),
    pytest.param(
        b'{"keys": [{"kty": "RSA", "kid": "k", "n": "AQAB"}]}', "application/json", id="bad-key"
    ),
    pytest.param(b'{"keys": "none"}', "application/json", id="keys-not-a-list"),
    pytest.param(b'[{"kty": "RSA"}]', "application/json", id="a-list"),
    pytest.param(b"\xff\xfe{", "application/json", id="not-utf-8"),
]


def verifier_of(endpoint: JwksEndpoint, clock: Clock) -> JwtVerifier:
    return JwtVerifier(issuer=ISSUER, jwks_url=endpoint.url, client_ids=(CLIENT_ID,), clock=clock)


@pytest.mark.parametrize(("body", "content_type"), NOT_A_JWKS)
def test_a_first_answer_that_is_no_jwks_makes_tokens_unverifiable_not_invalid(
    body: bytes, content_type: str
) -> None:
    issuer, clock = TokenIssuer(), Clock()
    with jwks_endpoint(issuer) as endpoint:
        endpoint.body, endpoint.content_type = body, content_type
        verifier = verifier_of(endpoint, clock)
        token = issuer.token()

        with pytest.raises(StorageUnavailable, match="signing keys"):
            verifier.verify(token)
        # Until the next fetch may be made, the same token is still not called invalid (a 401
        # would sign the gallery's visitors out).
        with pytest.raises(StorageUnavailable, match="signing keys"):
            verifier.verify(token)
        assert endpoint.fetches == 1

        endpoint.serve(issuer)
        clock.now += REFETCH_INTERVAL_SECONDS
        assert verifier.verify(token) == Caller("alice")


@pytest.mark.parametrize(("body", "content_type"), NOT_A_JWKS)
def test_keys_already_kept_outlive_an_answer_that_is_no_jwks(
    body: bytes, content_type: str
) -> None:
    issuer, clock = TokenIssuer(), Clock()
    with jwks_endpoint(issuer) as endpoint:
        verifier = verifier_of(endpoint, clock)
        assert verifier.verify(issuer.token()) == Caller("alice")
        endpoint.body, endpoint.content_type = body, content_type
        clock.now += REFETCH_INTERVAL_SECONDS

        with pytest.raises(StorageUnavailable, match="signing keys"):
            verifier.verify(issuer.sign(issuer.claims(), kid="rotated-in"))
        assert verifier.verify(issuer.token("bob")) == Caller("bob")
        assert endpoint.fetches == 2
