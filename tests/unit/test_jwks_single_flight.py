"""Fetching the issuer's keys while requests go on: a fetch for a key not yet known holds up
only the requests that need that key, and one fetch answers all of them. Ordered with events
(a JWKS source that holds each fetch until the test releases it), never with sleeps."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import jwt
import pytest
from jwt import PyJWKSet

from service.adapters.jwt_verifier import REFETCH_INTERVAL_SECONDS, JwtVerifier
from service.domain.errors import StorageUnavailable
from service.domain.model import Caller
from tests.support.tokens import CLIENT_ID, ISSUER, TokenIssuer

# Never reached when the code is right: it only ends a test that would otherwise wait for ever.
WATCHDOG_SECONDS = 30


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class HeldJwks:
    """Stands in for PyJWKClient: answers the JWKS of ``issuers`` (or fails when ``failing``),
    each fetch waiting until ``release`` once ``hold`` was called; ``fetching`` is set when a
    fetch starts."""

    def __init__(self, *issuers: TokenIssuer) -> None:
        self.issuers = list(issuers)
        self.failing = False
        self.fetches = 0
        self.fetching = threading.Event()
        self._open = threading.Event()
        self._open.set()

    def hold(self) -> None:
        self.fetching.clear()
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def get_jwk_set(self, refresh: bool = False) -> PyJWKSet:
        self.fetches += 1
        self.fetching.set()
        self._open.wait()
        if self.failing:
            raise jwt.PyJWKClientConnectionError("Fail to fetch data from the url, err: timed out")
        return PyJWKSet.from_dict({"keys": [k for i in self.issuers for k in i.jwks()["keys"]]})


class Waiters(logging.Handler):
    """Counts the requests that said they wait for the fetch another request makes."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0
        self.changed = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        if "waits for the fetch" in record.getMessage():
            with self.changed:
                self.count += 1
                self.changed.notify_all()

    def wait_for(self, count: int) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.count >= count, WATCHDOG_SECONDS)


@pytest.fixture
def waiters() -> Iterator[Waiters]:
    logger = logging.getLogger("service.adapters.signing_keys")
    handler, level = Waiters(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


ALICE, ROTATED = TokenIssuer(), TokenIssuer(kid="test-key-2")


def kept_then_held(jwks: HeldJwks) -> JwtVerifier:
    """A verifier that holds ALICE's key, a minute later (a refetch may be made), whose next
    fetch (during a rotation: both keys) is held."""
    clock = Clock()
    verifier = JwtVerifier(
        issuer=ISSUER,
        jwks_url="https://unused.example/jwks.json",
        client_ids=(CLIENT_ID,),
        jwks_client=jwks,
        clock=clock,
    )
    assert verifier.verify(ALICE.token()) == Caller("alice")
    clock.now += REFETCH_INTERVAL_SECONDS
    jwks.issuers.append(ROTATED)
    jwks.hold()
    return verifier


def test_a_known_key_is_checked_while_a_fetch_for_another_waits() -> None:
    jwks = HeldJwks(ALICE)
    verifier = kept_then_held(jwks)
    seen: dict[str, Caller] = {}
    fetcher = threading.Thread(
        target=lambda: seen.update(carol=verifier.verify(ROTATED.token("carol")))
    )
    fetcher.start()
    assert jwks.fetching.wait(WATCHDOG_SECONDS)  # the refetch is under way, held

    checked = threading.Event()

    def check_known_key() -> None:
        seen["bob"] = verifier.verify(ALICE.token("bob"))
        checked.set()

    threading.Thread(target=check_known_key, daemon=True).start()
    done_while_held = checked.wait(WATCHDOG_SECONDS)
    jwks.release()
    fetcher.join()

    assert done_while_held, "a token of a known key waited for the fetch of an unknown one"
    assert seen == {"bob": Caller("bob"), "carol": Caller("carol")}
    assert jwks.fetches == 2


def test_one_fetch_answers_every_request_that_needs_it(waiters: Waiters) -> None:
    jwks = HeldJwks(ALICE)
    verifier = kept_then_held(jwks)
    users = ["carol", "dora", "erin", "frank"]
    seen: dict[str, Caller] = {}

    def verify(user: str) -> None:
        seen[user] = verifier.verify(ROTATED.token(user))

    threads = [threading.Thread(target=verify, args=(user,)) for user in users]
    threads[0].start()
    assert jwks.fetching.wait(WATCHDOG_SECONDS)  # the first one fetches, held
    for thread in threads[1:]:
        thread.start()
    all_waiting = waiters.wait_for(len(users) - 1)
    fetches_while_held = jwks.fetches
    jwks.release()
    for thread in threads:
        thread.join()

    assert all_waiting, f"{waiters.count} of {len(users) - 1} requests waited for the fetch"
    assert fetches_while_held == jwks.fetches == 2  # a minute ago, and the one they shared
    assert seen == {user: Caller(user) for user in users}


def test_a_failed_fetch_fails_every_request_that_waited_for_it(waiters: Waiters) -> None:
    jwks = HeldJwks(ALICE)
    verifier = kept_then_held(jwks)
    jwks.failing = True
    failures: list[StorageUnavailable] = []

    def verify() -> None:
        try:
            verifier.verify(ROTATED.token())
        except StorageUnavailable as error:
            failures.append(error)

    threads = [threading.Thread(target=verify) for _ in range(3)]
    threads[0].start()
    assert jwks.fetching.wait(WATCHDOG_SECONDS)
    for thread in threads[1:]:
        thread.start()
    all_waiting = waiters.wait_for(2)
    jwks.release()
    for thread in threads:
        thread.join()

    assert all_waiting
    assert len(failures) == 3
    assert jwks.fetches == 2
    assert verifier.verify(ALICE.token("bob")) == Caller("bob")  # the kept key still works
