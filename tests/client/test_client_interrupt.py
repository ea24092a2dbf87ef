"""Ctrl+C in ``mpycloud upload``, for real: the command runs as a process against a server
that takes the bytes slowly, and gets SIGINT at start-up or while a part is being sent."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.client.files import png_file
from tests.client.tokens import fake_jwt

PART_SIZE = 5 * 1024 * 1024  # the whole test file: one part
EXIT_BOUND = 5.0  # seconds from the signal to the exit, generously


class SlowStorage(BaseHTTPRequestHandler):
    """The API's upload-session answers, and a part URL that reads 16 KiB every 0.1 s (a
    5 MiB part would take half a minute)."""

    server: SlowServer

    def do_GET(self) -> None:  # the owner's listing, before uploading
        self._answer(200, {"items": [], "next_cursor": None})

    def do_POST(self) -> None:  # POST /uploads: one presigned part, on this server
        length = int(self.headers["Content-Length"])
        self.rfile.read(length)
        part_url = f"http://127.0.0.1:{self.server.server_port}/part/1"
        self._answer(
            201,
            {
                "upload_id": "UP000000000000000000000001",
                "method": "PUT",
                "part_size": PART_SIZE,
                "parts": [{"part_number": 1, "url": part_url}],
                "expires_at": "2026-11-27T11:00:00Z",
            },
        )

    def do_PUT(self) -> None:
        left = int(self.headers["Content-Length"])
        while left > 0 and not self.server.closing.is_set():
            chunk = self.rfile.read(min(16 * 1024, left))
            if not chunk:
                return
            left -= len(chunk)
            self.server.part_bytes_received.set()
            time.sleep(0.1)

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class SlowServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), SlowStorage)
        self.part_bytes_received = threading.Event()
        self.closing = threading.Event()


@pytest.fixture
def server() -> Iterator[SlowServer]:
    running = SlowServer()
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    yield running
    running.closing.set()
    running.shutdown()
    running.server_close()


def start_upload(server: SlowServer, tmp_path: Path, *options: str) -> subprocess.Popen[str]:
    photo = png_file(tmp_path, "big.png", PART_SIZE)  # over the direct limit: multipart
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "MPYCLOUD_URL": f"http://127.0.0.1:{server.server_port}",
        "MPYCLOUD_TOKEN": fake_jwt("alice"),
    }
    argv = [sys.executable, *options, "-m", "mpycloud", "upload", str(photo), "--no-progress"]
    return subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def interrupt(command: subprocess.Popen[str]) -> tuple[int, str]:
    """SIGINT, then its exit status and standard error; fails if it outlives EXIT_BOUND."""
    command.send_signal(signal.SIGINT)
    try:
        _, stderr = command.communicate(timeout=EXIT_BOUND)
    except subprocess.TimeoutExpired:
        command.kill()
        command.communicate()
        pytest.fail(f"still running {EXIT_BOUND} s after Ctrl+C")
    return command.returncode, stderr


def test_ctrl_c_while_a_part_is_sent_stops_at_once_and_keeps_the_resume_state(
    server: SlowServer, tmp_path: Path
) -> None:
    command = start_upload(server, tmp_path)
    assert server.part_bytes_received.wait(timeout=30), command.communicate()

    code, stderr = interrupt(command)

    assert code == 130
    assert "Traceback" not in stderr
    assert "interrupted" in stderr
    kept = json.loads((tmp_path / "state" / "mpycloud" / "uploads.json").read_text())
    assert [entry["upload_id"] for entry in kept.values()] == ["UP000000000000000000000001"]


def start_upload_reporting_imports(
    server: SlowServer, tmp_path: Path
) -> tuple[subprocess.Popen[str], threading.Event, threading.Thread, list[str]]:
    """The upload command with ``-X importtime``: the event is set once mpycloud's command line
    is imported, and the list gathers standard error but for the import lines."""
    command = start_upload(server, tmp_path, "-X", "importtime")
    loading, lines = threading.Event(), []

    def read() -> None:
        assert command.stderr is not None
        for line in command.stderr:
            if line.startswith("import time:"):
                if line.rstrip().endswith("mpycloud.cli"):
                    loading.set()
            else:
                lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return command, loading, reader, lines


@pytest.mark.parametrize("after", [0.05, 0.2])
def test_ctrl_c_while_the_command_starts_prints_no_traceback(
    server: SlowServer, tmp_path: Path, after: float
) -> None:
    # GIVEN the command loading its modules (the interpreter's own start-up is behind it: a
    # signal then is Python's to report, before any line of mpycloud runs)
    command, loading, reader, lines = start_upload_reporting_imports(server, tmp_path)
    assert loading.wait(timeout=30), command.communicate()
    time.sleep(after)

    # WHEN Ctrl+C comes
    command.send_signal(signal.SIGINT)
    try:
        code = command.wait(timeout=EXIT_BOUND)
    except subprocess.TimeoutExpired:
        command.kill()
        command.wait()
        pytest.fail(f"still running {EXIT_BOUND} s after Ctrl+C")
    reader.join(timeout=EXIT_BOUND)
    for pipe in (command.stdout, command.stderr):
        assert pipe is not None
        pipe.close()
    stderr = "".join(lines)

    # THEN it ends as interrupted, without a traceback (a process that the signal ends as it
    # shuts down reports the signal itself: -SIGINT)
    assert code in (130, -signal.SIGINT), stderr
    assert "Traceback" not in stderr
