"""``make run`` as a new user meets it: the ports make is given, a port that is taken, and its
log lines. Make's own command lines are run (``make -n`` shows them), as make runs them."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from tests.integration.processes import (
    ROOT,
    coverage_env,
    make_command,
    started_run_local,
    stop,
    wait_for,
)
from tests.support.ports import free_port

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("integration")]


def env_of_a_user(record: Path) -> dict[str, str]:
    """A shell without AWS settings; make run's record in a file of the test's own."""
    return {"PATH": os.environ["PATH"], "EMULATOR_URL_FILE": str(record), **coverage_env()}


@contextmanager
def shell(line: str, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``line`` run by the shell as make runs a recipe, its output in ``log``; stopped after."""
    with log.open("wb") as sink:
        process = subprocess.Popen(
            ["/bin/sh", "-c", f"exec {line}"],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            stop(process)


def test_make_run_serves_on_the_ports_it_is_given(tmp_path: Path) -> None:
    port, emulator_port = free_port(), free_port()
    record = tmp_path / "emulator-url"
    line = make_command("run", f"PORT={port}", f"EMULATOR_PORT={emulator_port}")

    with shell(line, env_of_a_user(record), tmp_path / "out.log") as process:
        wait_for(f"http://127.0.0.1:{port}/health", process, timeout=60)
        printed = (tmp_path / "out.log").read_text()
        assert f"Gallery:       http://127.0.0.1:{port}/\n" in printed
        assert f"(moto): http://127.0.0.1:{emulator_port}  " in printed
        assert requests.get(f"http://127.0.0.1:{emulator_port}/moto-api/", timeout=30).ok
        # AND it says where its emulator is, for make token
        assert record.read_text().strip() == f"http://127.0.0.1:{emulator_port}"

    assert not record.exists()  # gone with it


def finished(*args: str, log: Path) -> tuple[int, list[str]]:
    """``python -m devtools run-local ARGS`` until it exits: its status and its lines."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), **coverage_env()}
    env["EMULATOR_URL_FILE"] = str(log.parent / "emulator-url")
    command = [sys.executable, "-m", "devtools", "run-local", *args]
    with shell(" ".join(command), env, log) as process:
        status = process.wait(timeout=60)
    return status, log.read_text().splitlines()


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port another program listens on."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield int(taken.getsockname()[1])


def test_a_taken_port_is_one_line_and_nothing_else(taken_port: int, tmp_path: Path) -> None:
    status, lines = finished(
        "--port", str(taken_port), "--emulator-port", str(free_port()), log=tmp_path / "out.log"
    )

    assert status != 0
    assert lines == [
        f"make run cannot listen on 127.0.0.1:{taken_port} (Address already in use): stop what "
        f"uses it, or choose another port, e.g. make run PORT={taken_port + 1}"
    ]  # no banner, no token


def test_a_taken_emulator_port_asked_for_is_one_line(taken_port: int, tmp_path: Path) -> None:
    status, lines = finished(
        "--port", str(free_port()), "--emulator-port", str(taken_port), log=tmp_path / "out.log"
    )

    assert status != 0
    assert len(lines) == 1, lines
    assert f"127.0.0.1:{taken_port}" in lines[0]
    assert "EMULATOR_PORT=" in lines[0]


def test_make_runs_log_lines_are_json_without_terminal_colours(tmp_path: Path) -> None:
    log = tmp_path / "out.log"
    with started_run_local(log) as run:
        # Werkzeug colours the lines of answers other than 200 for a terminal.
        assert requests.get(f"{run.url}/health", timeout=30).status_code == 200
        assert requests.get(f"{run.url}/images", timeout=30).status_code == 401
        assert requests.get(f"{run.url}/no-such-page", timeout=30).status_code == 404
        assert requests.get(f"{run.url}/", allow_redirects=False, timeout=30).status_code == 302

    lines = log.read_text().splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert [line for line in lines if "\x1b" in line] == []
    assert [r for r in records if any("\x1b" in str(value) for value in r.values())] == []
    answered = [r["message"] for r in records if r["logger"] == "werkzeug"]
    assert any('"GET /no-such-page HTTP/1.1" 404' in message for message in answered)
