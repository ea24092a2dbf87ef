"""Every module of a suite whose session fixtures start servers or containers is in that suite's
xdist_group: make pytest runs one process per worker, and a module outside the group would make
a second worker start them all again (tests/integration/test_parallel_runs.py checks that a
group stays on one worker)."""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("suite", ["integration", "containers"])
def test_every_module_of_the_suite_is_in_its_group(suite: str) -> None:
    modules = sorted((TESTS / suite).glob("test_*.py"))
    assert modules
    mark = f'pytest.mark.xdist_group("{suite}")'
    outside = [path.name for path in modules if mark not in path.read_text(encoding="utf-8")]
    assert outside == [], f"add {mark} to their pytestmark"
