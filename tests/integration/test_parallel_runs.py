"""make pytest's parallel run (pytest-xdist, ``-n auto --dist loadgroup``) keeps the tests of an
xdist_group on one worker, so that what they share is built once a run: the 10,000 seeded
images of the read-amplification tests, the container tests' image and emulator."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.processes import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("integration")]

GROUPED = """
import os

import pytest

pytestmark = pytest.mark.xdist_group("shared")


@pytest.fixture(scope="module")
def shared():
    with open(os.environ["SETUPS"], "a") as log:
        log.write(os.environ["PYTEST_XDIST_WORKER"] + "\\n")


class TestInAClass:
    @pytest.mark.parametrize("n", range(6))
    def test_method(self, shared, n):
        pass


def test_function(shared):
    pass
"""

UNGROUPED = """
import pytest


@pytest.mark.parametrize("n", range(40))
def test_other(n):
    pass
"""


def make_pytest_options() -> list[str]:
    """The options the Makefile's pytest target gives pytest."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    found = re.search(r"^PYTEST_PARALLEL := (.+)$", makefile, re.MULTILINE)
    assert found, "the Makefile names its parallel options PYTEST_PARALLEL"
    return found[1].split()


def test_a_group_runs_on_one_worker_and_its_fixture_is_built_once(tmp_path: Path) -> None:
    (tmp_path / "test_grouped.py").write_text(GROUPED, encoding="utf-8")
    (tmp_path / "test_ungrouped.py").write_text(UNGROUPED, encoding="utf-8")
    setups = tmp_path / "setups.log"
    options = make_pytest_options()
    assert "auto" in options
    # Two workers even on a one-core machine: the grouping is what is tested.
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *options, "-n", "2"]
    done = subprocess.run(
        [*command, "-v", "-o", "addopts=", "--rootdir", str(tmp_path), str(tmp_path)],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "SETUPS": str(setups)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "47 passed" in done.stdout
    workers = set(re.findall(r"\[(gw\d)\] .* PASSED test_grouped\.py", done.stdout))
    assert len(workers) == 1, done.stdout
    assert setups.read_text(encoding="utf-8").split() == list(workers)
