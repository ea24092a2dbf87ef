"""``make run``: the API on an embedded S3 + DynamoDB (moto's server, in a child process).

The emulator is moto's server with its DynamoDB transactions corrected (``devtools.emulator``:
serialised requests, journaled rollback, ``ClientRequestToken``), so that it holds thousands of
images and concurrent writers. Nothing is persisted: the emulator's state lives as long as the
command. It runs in its own process so that its request log does not drown the API's.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import replace

from service.settings import Settings

EMULATOR_START_SECONDS = 30


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


def run_local(settings: Settings, host: str, port: int, emulator_port: int) -> None:
    from service.entrypoints.app import create_app
    from service.entrypoints.provisioning import create_resources

    emulator_port = free_port(host, emulator_port)
    emulator = start_emulator(host, emulator_port)
    # Stopped by SIGTERM (not only Ctrl+C): unwind, so the emulator process goes too.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    try:
        endpoint = f"http://{host}:{emulator_port}"
        # The emulator accepts any credentials; boto3 still insists on having some.
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
        local_settings = replace(
            settings,
            aws_endpoint_url=endpoint,
            s3_public_endpoint_url=None,
            # One process: a per-process cursor secret is right here.
            cursor_secret=settings.cursor_secret or secrets.token_urlsafe(32),
        )
        create_resources(local_settings)
        local_settings, token = sign_in_on_the_emulator(local_settings)
        app = create_app(local_settings)
        print(f"mPyCloud API:  http://{host}:{port}/images", flush=True)
        print(f"API docs:      http://{host}:{port}/docs", flush=True)
        print(f"Gallery:       http://{host}:{port}/", flush=True)
        print(f"embedded S3 + DynamoDB + Cognito (moto): {endpoint}  (in memory)", flush=True)
        if token:
            from devtools.dev_tokens import DEMO_USERS, DEV_PASSWORD

            users = " or ".join(DEMO_USERS)
            print(f"Gallery sign-in: {users}, password {DEV_PASSWORD}", flush=True)
            print(f"export TOKEN={token}", flush=True)
        app.run(host=host, port=port, threaded=True, use_reloader=False)
    finally:
        emulator.terminate()
        try:
            emulator.wait(timeout=10)
        except subprocess.TimeoutExpired:
            emulator.kill()
            emulator.wait()
