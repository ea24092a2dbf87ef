"""gunicorn: a client that stops sending its body does not keep a worker thread."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("integration")]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def gunicorn() -> Iterator[int]:
    """One worker with one thread: a stuck request would block every other one."""
    port = _free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        # Never reached: the body times out before the upload gets to S3 or DynamoDB.
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "CURSOR_SECRET": "slow-clients-secret-0123456789",
        "PORT": str(port),
        "GUNICORN_WORKERS": "1",
        "GUNICORN_THREADS": "1",
        "GUNICORN_BODY_TIMEOUT": "1",
        "LOG_LEVEL": "WARNING",
        # Where the service has sign-in, no token must be needed to reach the body's read.
        "AUTH_MODE": "none",
        **{k: v for k, v in os.environ.items() if k.startswith("COVERAGE_")},
    }
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "-c",
            "python:service.entrypoints.gunicorn_conf",
            "service.entrypoints.wsgi:app",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "gunicorn exited"
            assert time.monotonic() < deadline, "gunicorn did not answer"
            try:
                requests.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_body_that_stops_half_way_gets_408_and_frees_the_thread(gunicorn: int) -> None:
    boundary = "b0undary"
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="image"; filename="a.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", gunicorn), timeout=60) as slow:
        # GIVEN an upload that announces 100 kB and sends its first part only
        slow.sendall(
            b"POST /images HTTP/1.1\r\nHost: localhost\r\n"
            + f"Content-Type: multipart/form-data; boundary={boundary}\r\n".encode()
            + b"Content-Length: 100000\r\n\r\n"
            + head
        )
        # WHEN the client sends nothing more, THEN gunicorn answers 408 on its own
        answer = b""
        while b"}" not in answer and (chunk := slow.recv(4096)):
            answer += chunk

    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert b"did not arrive in time" in answer
    # AND the only worker thread serves the next request
    assert requests.get(f"http://127.0.0.1:{gunicorn}/health", timeout=30).status_code == 200
