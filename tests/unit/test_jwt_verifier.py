"""The bearer-token check, against keys made by the test: every way a token can be wrong."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest

from service.adapters.jwt_verifier import REFETCH_INTERVAL_SECONDS, JwtVerifier
from service.domain.errors import InvalidToken
from service.domain.model import Caller
from tests.support.tokens import TokenIssuer, verifier_for


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def issuer() -> TokenIssuer:
    return TokenIssuer()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def verifier(issuer: TokenIssuer, clock: Clock) -> JwtVerifier:
    return verifier_for(issuer, clock=clock)


def segments(token: str) -> list[str]:
    return token.split(".")


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_good_access_token_names_the_caller_and_groups(
    verifier: JwtVerifier, issuer: TokenIssuer
) -> None:
    token = issuer.sign(issuer.claims("alice") | {"cognito:groups": ["admins", "staff"]})

    assert verifier.verify(token) == Caller("alice", frozenset({"admins", "staff"}))


def test_an_id_token_is_accepted_where_id_tokens_are_expected(
    issuer: TokenIssuer, clock: Clock
) -> None:
    verifier = verifier_for(issuer, "id", clock=clock)

    assert verifier.verify(issuer.token("bob", token_use="id")) == Caller("bob")


@pytest.mark.parametrize(
    ("expected_use", "given_use"), [("access", "id"), ("id", "access")], ids=["id", "access"]
)
def test_the_other_kind_of_token_is_refused(
    issuer: TokenIssuer, clock: Clock, expected_use: str, given_use: str
) -> None:
    verifier = verifier_for(issuer, expected_use, clock=clock)

    with pytest.raises(InvalidToken, match=f"{expected_use} token is expected"):
        verifier.verify(issuer.token(token_use=given_use))


def test_a_signature_by_another_key_is_refused(verifier: JwtVerifier) -> None:
    impostor = TokenIssuer()  # same kid, another key

    with pytest.raises(InvalidToken, match="signature does not verify"):
        verifier.verify(impostor.token())


def test_a_tampered_payload_is_refused(verifier: JwtVerifier, issuer: TokenIssuer) -> None:
    header, _, signature = segments(issuer.token("alice"))
    forged = b64(issuer.claims("mallory"))

    with pytest.raises(InvalidToken, match="signature does not verify"):
        verifier.verify(f"{header}.{forged}.{signature}")


def test_alg_none_is_refused(verifier: JwtVerifier, issuer: TokenIssuer) -> None:
    unsigned = f"{b64({'alg': 'none', 'kid': issuer.kid})}.{b64(issuer.claims())}."

    with pytest.raises(InvalidToken, match="RS256"):
        verifier.verify(unsigned)


def test_hs256_signed_with_the_public_key_is_refused(
    verifier: JwtVerifier, issuer: TokenIssuer
) -> None:
    # Algorithm confusion: the attacker signs with HMAC, using the public key as the secret.
    header = b64({"alg": "HS256", "typ": "JWT", "kid": issuer.kid})
    payload = b64(issuer.claims("mallory"))
    mac = hmac.new(issuer.public_pem(), f"{header}.{payload}".encode(), hashlib.sha256)
    signature = base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()

    with pytest.raises(InvalidToken, match="RS256"):
        verifier.verify(f"{header}.{payload}.{signature}")


def test_an_unknown_kid_is_refused_and_refetches_at_most_once_a_minute(
    verifier: JwtVerifier, issuer: TokenIssuer, clock: Clock
) -> None:
    verifier.verify(issuer.token())
    assert issuer.fetches == 1
    unknown = issuer.sign(issuer.claims(), kid="rotated-away")

    for _ in range(5):
        with pytest.raises(InvalidToken, match="kid"):
            verifier.verify(unknown)
    assert issuer.fetches == 1  # the first fetch was just now: no refetch yet

    clock.now += REFETCH_INTERVAL_SECONDS
    with pytest.raises(InvalidToken, match="kid"):
        verifier.verify(unknown)
    with pytest.raises(InvalidToken, match="kid"):
        verifier.verify(unknown)
    assert issuer.fetches == 2


def test_a_rotated_key_is_found_by_one_refetch(
    verifier: JwtVerifier, issuer: TokenIssuer, clock: Clock
) -> None:
    verifier.verify(issuer.token())
    issuer.kid = "test-key-2"  # the issuer rotated its key
    clock.now += REFETCH_INTERVAL_SECONDS

    assert verifier.verify(issuer.token("carol")) == Caller("carol")
    assert issuer.fetches == 2


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"iss": "https://cognito-idp.us-east-1.amazonaws.com/other-pool"}, "another issuer"),
        ({"client_id": "another-client"}, "another app client"),
        ({"exp": -120}, "expired"),  # seconds from now, see below
        ({"nbf": +600}, "not valid yet"),
        ({"username": "not a user id!"}, "not a user id"),
    ],
    ids=["wrong-issuer", "wrong-client", "expired", "not-yet-valid", "bad-username"],
)
def test_claims_that_do_not_hold_are_refused(
    verifier: JwtVerifier, issuer: TokenIssuer, claims: dict[str, Any], message: str
) -> None:
    # Times are given relative to now, and made absolute here: the parameters are built when
    # the tests are collected, which can be minutes before this one runs.
    now = int(time.time())
    claims = {k: now + v if k in ("exp", "nbf") else v for k, v in claims.items()}
    with pytest.raises(InvalidToken, match=message):
        verifier.verify(issuer.sign(issuer.claims() | claims))


def test_an_id_token_for_another_client_is_refused(issuer: TokenIssuer, clock: Clock) -> None:
    verifier = verifier_for(issuer, "id", clock=clock)

    with pytest.raises(InvalidToken, match="another app client"):
        verifier.verify(issuer.sign(issuer.claims(token_use="id") | {"aud": "another"}))


def test_a_small_clock_skew_is_tolerated(verifier: JwtVerifier, issuer: TokenIssuer) -> None:
    just_expired = issuer.claims() | {"exp": int(time.time()) - 5}

    assert verifier.verify(issuer.sign(just_expired)).user_id == "alice"


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "e30.e30"])
def test_malformed_tokens_are_refused(verifier: JwtVerifier, token: str) -> None:
    with pytest.raises(InvalidToken):
        verifier.verify(token)


def test_a_token_without_kid_is_refused(verifier: JwtVerifier, issuer: TokenIssuer) -> None:
    token = jwt.encode(issuer.claims(), issuer.key, algorithm="RS256")

    with pytest.raises(InvalidToken, match="kid"):
        verifier.verify(token)
