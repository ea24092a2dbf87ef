"""A test double of the AWS Lambda Runtime API (2018-06-01), served from this process.

The AWS runtime emulator cannot be downloaded here; awslambdaric inside the image talks to
this instead (the container tests' ``lambda_runtime`` fixture).
"""

from __future__ import annotations

import json
import queue
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_STOP = object()
_RESULT_PATH = re.compile(
    r"^/2018-06-01/runtime/invocation/(?P<id>[^/]+)/(?P<kind>response|error)$"
)


@dataclass
class LambdaRuntimeDouble:
    """The Lambda Runtime API (2018-06-01) as seen by awslambdaric, served from this process.

    ``invoke(event)`` queues an event for the next ``GET .../invocation/next`` and waits for the
    function's ``POST .../response`` (returned) or ``.../error`` (raised). ``stop()`` answers
    the pending ``next`` with a 500, which makes the runtime client exit.
    """

    events: queue.Queue[Any] = field(default_factory=queue.Queue)
    results: dict[str, Any] = field(default_factory=dict)
    init_errors: list[Any] = field(default_factory=list)
    first_poll_at: float | None = None
    container: Any = None  # the function's container, once started (set by its owner)
    _stopped: bool = False
    _done: threading.Condition = field(default_factory=threading.Condition)
    _server: ThreadingHTTPServer | None = None

    @property
    def address(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        assert isinstance(host, str)
        return f"{host}:{port}"

    def start(self, host: str = "127.0.0.1") -> LambdaRuntimeDouble:
        runtime = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while size := int(self.rfile.readline().split(b";")[0], 16):
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    self.rfile.readline()
                    return b"".join(chunks)
                return self.rfile.read(int(self.headers.get("Content-Length", 0)))

            def _answer(
                self, status: int, body: bytes, headers: dict[str, str] | None = None
            ) -> None:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                # awslambdaric's native client crashes (SIGSEGV) on an event without one.
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path != "/2018-06-01/runtime/invocation/next":
                    self._answer(404, b'{"errorMessage": "unknown path"}')
                    return
                if runtime.first_poll_at is None:
                    runtime.first_poll_at = time.monotonic()
                item = runtime.events.get()
                if item is _STOP:
                    runtime.events.put(_STOP)  # for any other waiting poll
                    self._answer(500, b'{"errorMessage": "runtime double stopped"}')
                    self.close_connection = True
                    return
                request_id, event = item
                self._answer(
                    200,
                    json.dumps(event).encode(),
                    {
                        "Lambda-Runtime-Aws-Request-Id": request_id,
                        "Lambda-Runtime-Deadline-Ms": str(int((time.time() + 300) * 1000)),
                        "Lambda-Runtime-Invoked-Function-Arn": (
                            "arn:aws:lambda:us-east-1:123456789012:function:mpycloud"
                        ),
                        "Lambda-Runtime-Trace-Id": f"Root=1-{uuid.uuid4().hex[:8]}-0",
                    },
                )

            def do_POST(self) -> None:
                body = self._body()
                if self.path == "/2018-06-01/runtime/init/error":
                    runtime.init_errors.append(json.loads(body or b"null"))
                    self._answer(202, b'{"status": "OK"}')
                    return
                match = _RESULT_PATH.match(self.path)
                if not match:
                    self._answer(404, b'{"errorMessage": "unknown path"}')
                    return
                with runtime._done:
                    runtime.results[match["id"]] = (match["kind"], json.loads(body or b"null"))
                    runtime._done.notify_all()
                self._answer(202, b'{"status": "OK"}')

        server = ThreadingHTTPServer((host, 0), Handler)
        server.daemon_threads = True
        self._server = server
        threading.Thread(target=server.serve_forever, name="lambda-runtime", daemon=True).start()
        return self

    def invoke(self, event: dict[str, Any], timeout: float = 60) -> dict[str, Any]:
        request_id = str(uuid.uuid4())
        self.events.put((request_id, event))
        with self._done:
            if not self._done.wait_for(lambda: request_id in self.results, timeout=timeout):
                raise TimeoutError(f"no answer to invocation {request_id} within {timeout}s")
            kind, payload = self.results.pop(request_id)
        if kind == "error":
            raise LambdaInvocationError(payload)
        assert isinstance(payload, dict)
        return payload

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self.events.put(_STOP)
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


class LambdaInvocationError(Exception):
    """The function answered ``/invocation/{id}/error``; ``args[0]`` is its error document."""
