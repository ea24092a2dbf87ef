"""Starting, waiting for and stopping the processes of the integration tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# Commands of the dev tools (python -m devtools), which the image does not hold.
DEV_COMMANDS = frozenset({"dev-token", "run-local"})


def make_command(*args: str) -> str:
    """The command line that ``make ARGS`` runs: the last line of its recipe."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    shown = subprocess.run(
        ["make", "-n", "--no-print-directory", *args],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    joined = shown.stdout.replace("\\\n", " ")  # a recipe line continued with a backslash
    return joined.strip().splitlines()[-1].lstrip("@")


def coverage_env() -> dict[str, str]:
    """Lets coverage follow the Python subprocesses (pyproject: patch = ["subprocess"])."""
    return {k: v for k, v in os.environ.items() if k.startswith("COVERAGE_")}


def wait_for(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass  # not listening yet, or listening but not yet serving
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass(frozen=True)
class Stack:
    base_url: str
    emulator_url: str
    env: dict[str, str]
    log: Path

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        package = "devtools" if args[0] in DEV_COMMANDS else "service"
        return subprocess.run(
            [sys.executable, "-m", package, *args],
            env={**self.env, **env},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


def gunicorn_stack(emulator_url: str, name: str, log: Path, **settings: str) -> Stack:
    """A stack on a free port against ``emulator_url``, with a bucket and a table of its own
    (``<name>-<random>``); ``settings`` add to its environment or override it."""
    port = free_port()
    suffix = uuid.uuid4().hex[:8]
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": emulator_url,
        "S3_BUCKET_NAME": f"{name}-{suffix}",
        "DYNAMODB_TABLE_NAME": f"{name}-{suffix}",
        # Its own queue too: another stack's worker must not take its jobs.
        "JOBS_QUEUE_NAME": f"{name}-{suffix}",
        "CURSOR_SECRET": "integration-secret-0123456789",
        "PORT": str(port),
        **settings,
        **coverage_env(),
    }
    return Stack(f"http://127.0.0.1:{port}", emulator_url, env, log)


@contextmanager
def gunicorn_serving(stack: Stack) -> Iterator[subprocess.Popen[bytes]]:
    """gunicorn serving the app with the stack's environment, its output in the stack's log,
    from its first answer to /health until the block ends."""
    with stack.log.open("wb") as sink:
        process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "-c",
                "python:service.entrypoints.gunicorn_conf",
                "service.entrypoints.wsgi:app",
            ],
            env=stack.env,
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(f"{stack.base_url}/health", process)
            yield process
        finally:
            stop(process)


@dataclass(frozen=True)
class LocalRun:
    url: str
    emulator: str
    output: str
    emulator_record: Path  # where it records its emulator's URL (EMULATOR_URL_FILE)


@contextmanager
def started_run_local(log: Path, **env: str) -> Iterator[LocalRun]:
    """``make run``'s command, as a user starts it: no AWS account, no Docker. It records its
    emulator's URL next to ``log``, not in the repository (a developer's own make run's)."""
    port, emulator_port = free_port(), free_port()
    record = log.parent / "emulator-url"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "devtools",
                "run-local",
                "--port",
                str(port),
                "--emulator-port",
                str(emulator_port),
            ],
            cwd=ROOT,
            env={
                "PATH": "/usr/bin:/bin",
                "PYTHONPATH": str(ROOT),
                "EMULATOR_URL_FILE": str(record),
                **coverage_env(),
                **env,
            },
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(f"http://127.0.0.1:{port}/health", process, timeout=60)
            output = Path(log).read_text()
            assert f"http://127.0.0.1:{port}/docs" in output
            yield LocalRun(
                f"http://127.0.0.1:{port}", f"http://127.0.0.1:{emulator_port}", output, record
            )
        finally:
            stop(process)
