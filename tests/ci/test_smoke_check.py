"""scripts/smoke_check.py against a real HTTP server on loopback that answers as told."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from scripts.smoke_check import main, readiness_url

READY = (200, {"status": "ready"})
NOT_READY = (503, {"code": 503, "status": "Service Unavailable", "message": "table missing"})


class Script:
    """The answers the server gives, one a request, the last one repeated."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, object]] = [READY]
        self.paths: list[str] = []

    def next(self, path: str) -> tuple[int, object]:
        self.paths.append(path)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


@pytest.fixture
def service() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, document = script.next(self.path)
            body = json.dumps(document).encode() if not isinstance(document, bytes) else document
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", script
    finally:
        server.shutdown()
        server.server_close()


def test_ready_at_once(service: tuple[str, Script]) -> None:
    url, script = service
    assert main([url, "--attempts", "1"]) == 0
    assert script.paths == ["/health/ready"]


def test_waits_for_a_deployment_to_become_ready(service: tuple[str, Script]) -> None:
    url, script = service
    script.answers = [NOT_READY, NOT_READY, READY]
    assert main([url, "--attempts", "5", "--interval", "0"]) == 0
    assert len(script.paths) == 3


def test_fails_when_never_ready(service: tuple[str, Script]) -> None:
    url, script = service
    script.answers = [NOT_READY]
    assert main([url, "--attempts", "3", "--interval", "0"]) == 1
    assert len(script.paths) == 3


@pytest.mark.parametrize(
    "answer",
    [(200, {"status": "ok"}), (200, b"<html>gateway</html>"), (404, {"message": "Not Found"})],
    ids=["liveness-shape", "not-json", "not-found"],
)
def test_only_a_ready_answer_counts(
    service: tuple[str, Script], answer: tuple[int, object]
) -> None:
    url, script = service
    script.answers = [answer]
    assert main([url, "--attempts", "2", "--interval", "0"]) == 1


def test_fails_when_nothing_answers() -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as closed:
        port = closed.server_address[1]
    assert main([f"http://127.0.0.1:{port}", "--attempts", "2", "--interval", "0"]) == 1


def test_base_urls_with_and_without_a_stage_slash() -> None:
    assert readiness_url("https://x.execute-api.us-east-1.amazonaws.com/") == (
        "https://x.execute-api.us-east-1.amazonaws.com/health/ready"
    )
    assert readiness_url("http://alb.example") == "http://alb.example/health/ready"


def test_refuses_a_base_url_that_is_not_http() -> None:
    with pytest.raises(SystemExit):
        main(["ftp://example", "--attempts", "1"])
