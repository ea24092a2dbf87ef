"""Real processes over real HTTP: moto's server, gunicorn serving the app, the CLI commands.

Session fixtures are per process, and pytest-xdist runs one process per worker: every module
here is in the ``xdist_group`` "integration", so that one worker starts these servers (and each
module's own: run-local, gunicorn stacks, Chromium), once.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from tests.integration.processes import BIN, Stack, gunicorn_serving, gunicorn_stack, stop, wait_for
from tests.support.ports import free_port


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{url}/moto-api/", process)
        yield url
    finally:
        stop(process)


@pytest.fixture(scope="session")
def stack(moto_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """gunicorn (2 workers) serving the app against moto's server, resources made by the CLI."""
    stack = gunicorn_stack(
        moto_server,
        "integration",
        tmp_path_factory.mktemp("gunicorn") / "stdout.log",
        MAX_FILE_SIZE=str(1024 * 1024),
        LOG_LEVEL="INFO",
        AUTH_MODE="none",
        # The flows upload the same fixture bytes again and again (tests/functional has DEDUPE's).
        DEDUPE="off",
        GUNICORN_WORKERS="2",
        GUNICORN_THREADS="4",
    )
    created = stack.run("create-resources")
    assert created.returncode == 0, created.stderr
    with gunicorn_serving(stack):
        yield stack
