"""The body deadline for readers other than ``read(n)``: line by line (multipart parsers), as an
iterator, and a client that keeps sending but too slowly for the whole body's deadline."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.exceptions import RequestTimeout

from service.entrypoints.api.body_deadline import BodyDeadline, DeadlineInput

LINES = [b"--boundary\r\n", b'Content-Disposition: form-data; name="a"\r\n', b"\r\n", b"1\r\n"]


@pytest.fixture
def connection() -> Iterator[tuple[socket.socket, socket.socket]]:
    client, server = socket.socketpair()
    with client, server:
        yield client, server


def test_a_body_read_line_by_line_arrives_whole(
    connection: tuple[socket.socket, socket.socket],
) -> None:
    client, server = connection
    client.sendall(b"".join(LINES))
    client.shutdown(socket.SHUT_WR)

    with server.makefile("rb") as stream:
        body = DeadlineInput(stream, server, time.monotonic() + 30)
        first = body.readline()
        second = body.readline(8)
        rest = list(body)

    assert first == LINES[0]
    assert second == LINES[1][:8]
    assert rest == [LINES[1][8:], *LINES[2:]]
    assert server.gettimeout() is None


def test_readlines_hands_every_line(connection: tuple[socket.socket, socket.socket]) -> None:
    client, server = connection
    client.sendall(b"".join(LINES))
    client.shutdown(socket.SHUT_WR)

    with server.makefile("rb") as stream:
        assert DeadlineInput(stream, server, time.monotonic() + 30).readlines() == LINES


def test_a_line_that_never_ends_is_a_request_timeout(
    connection: tuple[socket.socket, socket.socket],
) -> None:
    client, server = connection
    client.sendall(b"no end of line")

    with server.makefile("rb") as stream, pytest.raises(RequestTimeout):
        DeadlineInput(stream, server, time.monotonic() + 0.05).readline()
    assert server.gettimeout() is None


def test_past_the_deadline_no_read_is_attempted_even_with_bytes_waiting(
    connection: tuple[socket.socket, socket.socket],
) -> None:
    # A client that trickles its body byte by byte never lets one read time out: the deadline
    # is for the whole body, so the next read after it fails at once.
    client, server = connection
    client.sendall(b"x" * 10)

    with server.makefile("rb") as stream:
        body = DeadlineInput(stream, server, time.monotonic() - 1)
        with pytest.raises(RequestTimeout) as refused:
            body.read(1)
        assert stream.read(10) == b"x" * 10  # nothing was consumed

    assert refused.value.code == 408


def test_a_deadline_of_zero_seconds_means_no_deadline(
    connection: tuple[socket.socket, socket.socket],
) -> None:
    _, server = connection
    seen: list[Any] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(environ["wsgi.input"])
        return []

    marker = object()
    environ = {"gunicorn.socket": server, "wsgi.input": marker}
    list(BodyDeadline(app, seconds=0)(environ, lambda *args: None))

    assert seen == [marker]
