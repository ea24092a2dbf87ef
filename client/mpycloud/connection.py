"""The connection to the service: the API's channel, the one for presigned S3 URLs, the token.
The endpoint classes build on it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypedDict

import httpx

from mpycloud.errors import error_from
from mpycloud.retries import Channel, RetryPolicy

USER_AGENT = "mpycloud-client/0.1"


class ConnectionOptions(TypedDict, total=False):
    """Connection's keyword options, for a subclass's constructor to pass on."""

    timeout: float
    retry: RetryPolicy | None
    transport: httpx.BaseTransport | None
    max_connections: int
    sleep: Callable[[float], None]
    clock: Callable[[], float]


class Connection:
    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        max_connections: int = 32,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        policy = retry or RetryPolicy()
        common: dict[str, Any] = {
            "timeout": httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            "transport": transport,
            "limits": httpx.Limits(max_connections=max_connections),
            "headers": {"User-Agent": USER_AGENT},
        }
        self.api = Channel(httpx.Client(base_url=self.base_url, **common), policy, sleep)
        # Presigned S3 URLs carry their own signature: never the bearer token.
        self.storage = Channel(httpx.Client(**common), policy, sleep)
        self.token = token
        # What waits (between retries, and while an upload is processing) and tells the time.
        self.sleep = sleep
        self.clock = clock

    @property
    def token(self) -> str | None:
        return self._token

    @token.setter
    def token(self, value: str | None) -> None:
        self._token = value
        if value:
            self.api.http.headers["Authorization"] = f"Bearer {value}"
        else:
            self.api.http.headers.pop("Authorization", None)

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A request to the API; an error answer raises its typed ApiError."""
        response = self.api.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise error_from(response)
        return response

    def close(self) -> None:
        self.api.close()
        self.storage.close()
