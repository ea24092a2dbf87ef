"""Requests with retries: 5xx, 429 and lost connections are tried again, with backoff.

A retried POST is only safe because it carries the same ``Idempotency-Key`` every time: the
service answers a repeated key with the first answer instead of doing the work twice. Each
attempt builds its request anew, so file bodies are read again from the start.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from mpycloud.errors import ConnectionFailed, retry_after_seconds

log = logging.getLogger("mpycloud")
IDEMPOTENCY_HEADER = "Idempotency-Key"
# Errors where the request may not have arrived, or its answer was lost: worth another try.
RETRIED_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


def idempotency_header(key: str | None = None) -> dict[str, str]:
    """The header that makes a POST safe to retry: ``key``, or a new random one."""
    return {IDEMPOTENCY_HEADER: key or uuid.uuid4().hex}


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` in all (1: no retry). The n-th retry waits between half and all of
    ``base_delay * 2**n`` (at most ``max_delay``), or longer if the answer's Retry-After says
    so (up to ``max_retry_after``)."""

    attempts: int = 5
    base_delay: float = 0.25
    max_delay: float = 8.0
    max_retry_after: float = 60.0

    def delay(self, retry: int, retry_after: float | None, jitter: float) -> float:
        ceiling = min(self.max_delay, self.base_delay * 2.0**retry)
        backoff = ceiling * (0.5 + jitter / 2)
        if retry_after is None:
            return backoff
        return max(backoff, min(retry_after, self.max_retry_after))


def should_retry(response: httpx.Response) -> bool:
    status = response.status_code
    if status == 429 or status >= 500:
        return True
    # The first request with this key still runs (its answer was lost to us): ask again soon.
    return (
        status == 409
        and IDEMPOTENCY_HEADER in response.request.headers
        and "Retry-After" in response.headers
    )


class Channel:
    """One httpx client (the API's, or a plain one for presigned S3 URLs) and its retries."""

    def __init__(
        self,
        http: httpx.Client,
        policy: RetryPolicy,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.http = http
        self._policy = policy
        self._sleep = sleep
        self._jitter = jitter

    def request(
        self,
        method: str,
        url: str,
        *,
        build: Callable[[], dict[str, Any]] | None = None,
        stream: bool = False,
        **fixed: Any,
    ) -> httpx.Response:
        """``fixed`` are httpx.Client.build_request's arguments; ``build`` returns those that
        must be made again for each attempt (file bodies)."""
        attempts = max(1, self._policy.attempts)
        for attempt in range(attempts):
            last = attempt == attempts - 1
            request = self.http.build_request(method, url, **fixed, **(build() if build else {}))
            try:
                response = self.http.send(request, stream=stream)
            except RETRIED_ERRORS as error:
                if last:
                    raise ConnectionFailed("no answer from", request.url, error) from error
                log.info("%s %s failed (%r); retrying", method, url, error)
                self._sleep(self._policy.delay(attempt, None, self._jitter()))
                continue
            if last or not should_retry(response):
                return response
            response.close()
            log.info("%s %s answered %s; retrying", method, url, response.status_code)
            wait = self._policy.delay(attempt, retry_after_seconds(response), self._jitter())
            self._sleep(wait)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def close(self) -> None:
        self.http.close()
