"""A request body must arrive within a deadline under gunicorn, or the request gets 408.

gunicorn's threaded worker reads a request's body in the worker thread, from a blocking socket
with no timeout: a client that sends its body slowly, or stops half-way, would hold that thread
(one of ``GUNICORN_THREADS``) for as long as it keeps the connection open. This middleware
gives the whole body ``GUNICORN_BODY_TIMEOUT`` seconds from the moment the app is called: each
read may wait only for the time left, and a read past the deadline answers 408 Request Timeout
instead. It only acts where gunicorn hands over its socket (``gunicorn.socket``); elsewhere
(Lambda, ``make run``) it passes requests through untouched.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.exceptions import RequestTimeout

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class BodyDeadline:
    def __init__(self, app: WSGIApp, seconds: float) -> None:
        self._app = app
        self._seconds = seconds

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        sock = environ.get("gunicorn.socket")
        if isinstance(sock, socket.socket) and self._seconds > 0:
            environ["wsgi.input"] = DeadlineInput(
                environ["wsgi.input"], sock, time.monotonic() + self._seconds
            )
        return self._app(environ, start_response)


class DeadlineInput:
    """``wsgi.input`` whose reads give up at ``deadline`` (a ``time.monotonic()`` value)."""

    def __init__(self, stream: Any, sock: socket.socket, deadline: float) -> None:
        self._stream = stream
        self._sock = sock
        self._deadline = deadline

    def read(self, size: int | None = None) -> bytes:
        return self._within_deadline(self._stream.read, size)  # type: ignore[no-any-return]

    def readline(self, size: int | None = None) -> bytes:
        return self._within_deadline(self._stream.readline, size)  # type: ignore[no-any-return]

    def readlines(self, hint: int | None = None) -> list[bytes]:
        return self._within_deadline(self._stream.readlines, hint)  # type: ignore[no-any-return]

    def __iter__(self) -> DeadlineInput:
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def _within_deadline(self, read: Callable[..., Any], size: int | None) -> Any:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise _too_slow()
        previous = self._sock.gettimeout()
        self._sock.settimeout(left)
        try:
            return read() if size is None else read(size)
        except TimeoutError:  # socket.timeout is TimeoutError
            raise _too_slow() from None
        finally:
            # The response is written on the same socket: with no deadline of ours.
            self._sock.settimeout(previous)


def _too_slow() -> RequestTimeout:
    return RequestTimeout("The request body did not arrive in time")
