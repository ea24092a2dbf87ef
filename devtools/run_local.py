"""``make run``: the API on an embedded S3 + DynamoDB (moto's server, in a child process).

The emulator is moto's server with its DynamoDB transactions corrected (``devtools.emulator``:
serialised requests, journaled rollback, ``ClientRequestToken``), so that it holds thousands of
images and concurrent writers. Nothing is persisted: the emulator's state lives as long as the
command. It runs in its own process so that its request log does not drown the API's.

The API's port is taken before anything starts or prints: a port in use is one line, and the
token is printed only by a run that serves. The emulator's URL is recorded
(``devtools.emulator_address``) for ``make token`` to find it on whatever port it got.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import replace

from devtools import emulator_address
from service.settings import Settings

EMULATOR_START_SECONDS = 30
DEFAULT_EMULATOR_PORT = 5000
TERMINAL_STYLE = re.compile(r"\x1b\[[0-9;]*m")


class PortTaken(Exception):
    """A port ``make run`` needs is not free; says which, and how to choose another."""

    def __init__(self, host: str, port: int, reason: str, setting: str) -> None:
        super().__init__(
            f"make run cannot listen on {host}:{port} ({reason}): stop what uses it, or choose "
            f"another port, e.g. make run {setting}={port + 1}"
        )


class Uncoloured(logging.Filter):
    """Werkzeug styles its request lines for a terminal; in JSON lines the escapes are noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        plain = TERMINAL_STYLE.sub("", message)
        if plain != message:
            record.msg, record.args = plain, ()
        return True


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _reason(error: OSError) -> str:
    # socket.create_server adds the address to strerror: the message says it already.
    return os.strerror(error.errno) if error.errno else str(error)


def listen(host: str, port: int) -> socket.socket:
    """The API's listening socket, taken before anything starts or prints."""
    try:
        return socket.create_server((host, port), family=_family(host))
    except OSError as error:
        raise PortTaken(host, port, _reason(error), "PORT") from error


def choose_emulator_port(host: str, asked: int | None) -> int:
    """The port asked for, which must be free; else 5000, or any free one if 5000 is taken."""
    if asked is None:
        return free_port(host, DEFAULT_EMULATOR_PORT)
    with socket.socket(_family(host)) as probe:
        # As the emulator's server binds: a port left in TIME_WAIT by a last run is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, asked))
        except OSError as error:
            raise PortTaken(host, asked, _reason(error), "EMULATOR_PORT") from error
    return asked


def free_port(host: str, preferred: int) -> int:
    with socket.socket() as probe:
        try:
            probe.bind((host, preferred))
        except OSError:
            probe.bind((host, 0))
        return int(probe.getsockname()[1])


def start_emulator(host: str, port: int) -> subprocess.Popen[bytes]:
    emulator = subprocess.Popen(  # noqa: S603 - fixed argv: this interpreter, devtools.emulator
        [sys.executable, "-m", "devtools.emulator", "-H", host, "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + EMULATOR_START_SECONDS
    while time.monotonic() < deadline and emulator.poll() is None:
        try:
            with urllib.request.urlopen(f"http://{host}:{port}/moto-api/", timeout=1):
                return emulator
        except OSError:
            time.sleep(0.1)
    emulator.kill()
    raise RuntimeError(f"moto's server did not start on {host}:{port}")


def sign_in_on_the_emulator(settings: Settings) -> tuple[Settings, str | None]:
    """With sign-in on: the emulator's user pool and demo users, the settings that trust its
    tokens, and a token for the first demo user. With ``AUTH_MODE=none``: as they are."""
    if settings.auth_mode == "none":
        return settings, None
    from devtools.dev_tokens import DEMO_USERS, dev_token
    from service.bootstrap import cognito_client
    from service.entrypoints.provisioning import create_user_pool

    pool = create_user_pool(settings)
    trusted = replace(
        settings,
        auth_issuer=pool.issuer,
        auth_jwks_url=pool.jwks_url,
        auth_client_ids=(pool.client_id,),
    )
    tokens = [dev_token(cognito_client(settings), pool, user) for user in DEMO_USERS]
    return trusted, tokens[0]


def run_local(settings: Settings, host: str, port: int, asked_emulator_port: int | None) -> None:
    from werkzeug.serving import make_server

    from service.entrypoints.app import create_app
    from service.entrypoints.provisioning import create_resources

    api_socket = listen(host, port)
    try:
        emulator_port = choose_emulator_port(host, asked_emulator_port)
        emulator = start_emulator(host, emulator_port)
    except BaseException:
        api_socket.close()
        raise
    endpoint = f"http://{host}:{emulator_port}"
    emulator_address.record(endpoint)
    # Stopped by SIGTERM (not only Ctrl+C): unwind, so the emulator process goes too.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    try:
        # The emulator accepts any credentials; boto3 still insists on having some.
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
        local_settings = replace(
            settings,
            aws_endpoint_url=endpoint,
            s3_public_endpoint_url=None,
            # The emulator serves one request at a time: a long poll would hold it.
            worker_wait_seconds=0,
            # One process: a per-process cursor secret is right here.
            cursor_secret=settings.cursor_secret or secrets.token_urlsafe(32),
        )
        create_resources(local_settings)
        local_settings, token = sign_in_on_the_emulator(local_settings)
        logging.getLogger("werkzeug").addFilter(Uncoloured())
        with api_socket:
            server = make_server(
                host, port, create_app(local_settings), threaded=True, fd=api_socket.fileno()
            )
        stop_worker = start_worker(local_settings)
        _print_banner(f"http://{host}:{server.port}", endpoint, token)
        try:
            server.serve_forever()
        finally:
            stop_worker()
    finally:
        api_socket.close()
        emulator_address.forget(endpoint)
        emulator.terminate()
        try:
            emulator.wait(timeout=10)
        except subprocess.TimeoutExpired:
            emulator.kill()
            emulator.wait()


def start_worker(settings: Settings) -> Callable[[], None]:
    """The worker as the image's third mode runs it (``python -m service worker``), in a
    thread of this process; what stops it."""
    from service.bootstrap import build_job_processor, build_job_queue
    from service.entrypoints.worker import Worker

    stop = threading.Event()
    worker = Worker(
        build_job_processor(settings),
        build_job_queue(settings),
        wait_seconds=settings.worker_wait_seconds,
    )
    thread = threading.Thread(target=worker.run, args=(stop,), name="worker", daemon=True)
    thread.start()

    def stop_it() -> None:
        stop.set()
        thread.join(timeout=30)

    return stop_it


def _print_banner(api: str, emulator: str, token: str | None) -> None:
    print(f"mPyCloud API:  {api}/images", flush=True)
    print(f"API docs:      {api}/docs", flush=True)
    print(f"Gallery:       {api}/", flush=True)
    print(f"embedded S3 + DynamoDB + SQS + Cognito (moto): {emulator}  (in memory)", flush=True)
    print("worker:        in this process, on the embedded queue", flush=True)
    if token:
        from devtools.dev_tokens import DEMO_USERS, DEV_PASSWORD

        users = " or ".join(DEMO_USERS)
        print(f"Gallery sign-in: {users}, password {DEV_PASSWORD}", flush=True)
        print(f"export TOKEN={token}", flush=True)
