"""Start-up without the cyclic garbage collector.

Importing the app makes tens of thousands of objects that live as long as the process, and next
to no garbage; the collector still walks them as they are made, dozens of times during a Lambda
cold start (``tests/functional/test_cold_start.py`` counts the collections). The entry points
import and make the app inside
``collector_paused()``. Afterwards what start-up made is frozen (moved where the collector no
longer walks it, as ``gc.freeze`` documents for servers that fork after loading the app: the
workers of gunicorn's ``preload_app`` then also leave those pages shared) and collection
resumes for what requests make.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
