"""Threads released together, for tests of what must happen once whoever asks first."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def all_at_once(count: int, call: Callable[[], T]) -> list[T]:
    """What ``call`` returned in each of ``count`` threads started behind one barrier."""
    ready = threading.Barrier(count)
    results: list[T] = []

    def run() -> None:
        ready.wait()
        results.append(call())

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
