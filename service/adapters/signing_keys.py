"""The issuer's signing keys: fetched from its JWKS, kept, and fetched again for a key not yet
known (a rotation), at most once a minute so that forged ``kid`` values cannot make the service
hammer the issuer.

PyJWT's ``PyJWKClient`` fetches and parses the JWKS; the keeping is done here, because
``PyJWKClient``'s own cache neither rate-limits nor shares a fetch between threads. One fetch
runs at a time (single flight): the requests that need a key it may bring wait for it, and
requests whose key is kept never wait, as the lock is never held during the network call.

An answer that is not a usable JWKS (an HTML page, no keys, keys that cannot be read) is a
failed fetch like an unreachable endpoint: the keys kept before stay, and until the next fetch
may be made a key not kept is unknown because the keys could not be fetched (503), not because
of the token (401, which would sign the gallery's visitors out).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from service.domain.errors import InvalidToken, StorageUnavailable

if TYPE_CHECKING:
    from jwt import PyJWK, PyJWKSet

REFETCH_INTERVAL_SECONDS = 60.0
FETCH_TIMEOUT_SECONDS = 5
FETCH_FAILED = "Could not fetch the issuer's signing keys"

log = logging.getLogger(__name__)


class JwkSetSource(Protocol):
    """What is used of PyJWKClient: one fetch of the JWKS, parsed."""

    def get_jwk_set(self, refresh: bool = False) -> PyJWKSet: ...


class _Fetch:
    """A fetch under way; ``done`` is set when its outcome is stored."""

    def __init__(self) -> None:
        self.done = threading.Event()


class SigningKeys:
    def __init__(
        self,
        jwks_url: str,
        *,
        source: JwkSetSource | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._jwks_url = jwks_url
        self._source = source
        self._clock = clock
        # Guards the fields below; never held while fetching.
        self._lock = threading.Lock()
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at: float | None = None
        self._last_fetch_failed = False
        self._fetch: _Fetch | None = None

    def key(self, kid: str) -> PyJWK:
        """The key named ``kid``; InvalidToken if the issuer does not publish it,
        StorageUnavailable if its keys could not be fetched."""
        with self._lock:
            found = self._keys.get(kid)
            if found is not None:
                return found
            under_way, mine = self._fetch, None
            if under_way is None and self._may_refetch():
                mine = self._fetch = _Fetch()
                self._fetched_at = self._clock()
        if mine is not None:
            self._run(mine)
        elif under_way is not None:
            log.debug("a request for signing key %r waits for the fetch under way", kid)
            under_way.done.wait()
        with self._lock:
            found, failed = self._keys.get(kid), self._last_fetch_failed
        if found is not None:
            return found
        if failed:
            raise StorageUnavailable(FETCH_FAILED)
        raise InvalidToken("The token's signing key (kid) is unknown")

    def _may_refetch(self) -> bool:
        return (
            self._fetched_at is None or self._clock() - self._fetched_at >= REFETCH_INTERVAL_SECONDS
        )

    def _run(self, fetch: _Fetch) -> None:
        keys: dict[str, PyJWK] | None = None
        try:
            keys = self._fetched()
        except Exception as error:
            # Whatever the endpoint answered (or raised while answering), there are no new keys
            # to use: the client is told the keys could not be fetched, the log says why.
            log.warning("%s from %s: %s", FETCH_FAILED, self._jwks_url, _described(error))
        finally:
            with self._lock:
                if keys is not None:
                    self._keys = keys
                self._last_fetch_failed = keys is None
                self._fetch = None
            fetch.done.set()

    def _fetched(self) -> dict[str, PyJWK]:
        if self._source is None:
            import jwt

            self._source = jwt.PyJWKClient(
                self._jwks_url, cache_jwk_set=False, cache_keys=False, timeout=FETCH_TIMEOUT_SECONDS
            )
        keys = {
            key.key_id: key for key in self._source.get_jwk_set(refresh=True).keys if key.key_id
        }
        if not keys:
            raise ValueError("the JWKS holds no key with a kid")
        return keys


def _described(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"
