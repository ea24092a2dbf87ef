"""Process-wide decode slots: how many images this process decodes at once. Free of Pillow, so
that the wiring makes them at start-up without importing it."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from service.domain.errors import DecoderBusy


class DecodeSlots:
    """At most ``limit`` decodes at a time in this process (all threads of a gunicorn worker).

    A decode that finds no slot free within ``wait_seconds`` fails with DecoderBusy, which tells
    the client to come back in as many seconds. Created once by the wiring; a process forked
    from it (a gunicorn worker) starts with every slot free.
    """

    def __init__(self, limit: int, wait_seconds: float) -> None:
        self._free = threading.BoundedSemaphore(limit)
        self._wait_seconds = wait_seconds
        self._retry_after = max(1, math.ceil(wait_seconds))

    @contextmanager
    def slot(self) -> Iterator[None]:
        if not self._free.acquire(timeout=self._wait_seconds):
            raise DecoderBusy(self._retry_after)
        try:
            yield
        finally:
            self._free.release()
