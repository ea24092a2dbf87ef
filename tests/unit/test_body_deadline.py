"""A request body that does not arrive in time ends in 408, under gunicorn only."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.exceptions import RequestTimeout

from service.entrypoints.api.body_deadline import BodyDeadline
from service.settings import ServerSettings, SettingsError


@pytest.fixture
def connection() -> Iterator[tuple[socket.socket, socket.socket]]:
    client, server = socket.socketpair()
    with client, server:
        yield client, server


def reading_app(size: int, seen: list[Any]) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(environ["wsgi.input"].read(size))
        start_response("200 OK", [])
        return [b"ok"]

    return app


def call(app: Any, environ: dict[str, Any]) -> list[bytes]:
    return list(app(environ, lambda *args: None))


def test_a_body_that_arrives_in_time_is_read_whole(
    connection: tuple[socket.socket, socket.socket],
) -> None:
    client, server = connection
    client.sendall(b"x" * 100)
    seen: list[Any] = []
    app = BodyDeadline(reading_app(100, seen), seconds=30)

    with server.makefile("rb") as body:
        assert call(app, {"gunicorn.socket": server, "wsgi.input": body}) == [b"ok"]

    assert seen == [b"x" * 100]
    assert server.gettimeout() is None  # the response is written without our deadline


def test_a_body_that_stops_half_way_is_a_request_timeout(
    connection: tuple[socket.socket, socket.socket],
) -> None:
    client, server = connection
    client.sendall(b"x" * 10)  # of the 100 bytes announced
    app = BodyDeadline(reading_app(100, []), seconds=0.05)

    with server.makefile("rb") as body, pytest.raises(RequestTimeout):
        call(app, {"gunicorn.socket": server, "wsgi.input": body})

    assert server.gettimeout() is None


def test_without_gunicorn_the_input_is_left_as_it_is() -> None:
    seen: list[Any] = []
    marker = object()

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(environ["wsgi.input"])
        return []

    call(BodyDeadline(app, seconds=1), {"wsgi.input": marker})

    assert seen == [marker]


def test_the_body_timeout_is_a_checked_setting() -> None:
    assert ServerSettings.from_env({}).body_timeout == 60
    assert ServerSettings.from_env({"GUNICORN_BODY_TIMEOUT": "0"}).body_timeout == 0
    with pytest.raises(SettingsError, match="GUNICORN_BODY_TIMEOUT"):
        ServerSettings.from_env({"GUNICORN_BODY_TIMEOUT": "soon"})
