"""collector_paused: no collection while the app is made, start-up frozen, collection resumed."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from service.entrypoints.start_up import collector_paused


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    was_enabled = gc.isenabled()
    yield
    gc.unfreeze()
    if was_enabled:
        gc.enable()
    else:
        gc.disable()


def test_nothing_is_collected_inside_and_what_was_made_is_frozen_after() -> None:
    gc.enable()
    gc.unfreeze()
    collections: list[str] = []
    gc.callbacks.append(lambda phase, _: collections.append(phase))
    try:
        with collector_paused():
            assert not gc.isenabled()
            made = [[index] for index in range(50_000)]  # well over a generation's threshold
            assert collections == []
        assert gc.isenabled()
        assert gc.get_freeze_count() >= len(made)
        walked = {id(item) for item in gc.get_objects()}  # the collector's generations
        assert not any(id(item) in walked for item in made)
    finally:
        gc.callbacks.pop()


def test_a_collector_disabled_before_stays_disabled() -> None:
    gc.disable()

    with collector_paused():
        pass

    assert not gc.isenabled()


def test_a_failing_start_up_resumes_collection() -> None:
    gc.enable()

    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("settings refused")

    assert gc.isenabled()
