"""A command's work spread over daemon threads, ``jobs`` at a time.

Daemon threads, not a ThreadPoolExecutor: the interpreter waits for an executor's threads
before it exits, so after a Ctrl+C every file in flight would still be sent to its end. A
daemon thread ends with the process; a multipart upload cut off so resumes when the command
runs again, its upload session's id being kept before its first part is sent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def run_in_threads(
    task: Callable[[Item], Result], items: Sequence[Item], jobs: int
) -> list[Result]:
    """``task(item)`` for every item, ``jobs`` at a time: the results in the items' order.
    A task's exception is raised here once every task has ended. A Ctrl+C here stops handing
    out items and is raised at once, leaving the tasks in flight to end with the process."""
    next_index = iter(range(len(items)))
    taking = threading.Lock()
    stopping = threading.Event()
    results: dict[int, Result] = {}
    errors: list[BaseException] = []

    def work() -> None:
        while not stopping.is_set():
            with taking:
                index = next(next_index, None)
            if index is None:
                return
            try:
                results[index] = task(items[index])
            except BaseException as error:  # raised in the calling thread, not printed here
                errors.append(error)

    workers = [
        threading.Thread(target=work, name=f"worker-{n}", daemon=True)
        for n in range(max(1, min(jobs, len(items))))
    ]
    for worker in workers:
        worker.start()
    try:
        for worker in workers:
            worker.join()
    except KeyboardInterrupt:
        stopping.set()
        raise
    if errors:
        raise errors[0]
    return [results[index] for index in range(len(items))]
