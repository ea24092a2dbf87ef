"""``make run``: the API on an embedded S3 + DynamoDB (moto's server, in this process).

Nothing is persisted: the emulator's state lives as long as the command.
"""

from __future__ import annotations

import os
import socket
from dataclasses import replace

from service.settings import Settings


def free_port(host: str, preferred: int) -> int:
    with socket.socket() as probe:
        try:
            probe.bind((host, preferred))
        except OSError:
            probe.bind((host, 0))
        return int(probe.getsockname()[1])


def run_local(settings: Settings, host: str, port: int, emulator_port: int) -> None:
    from moto.server import ThreadedMotoServer

    from service.app import create_app
    from service.resources import create_resources

    emulator_port = free_port(host, emulator_port)
    emulator = ThreadedMotoServer(ip_address=host, port=emulator_port, verbose=False)
    emulator.start()
    endpoint = f"http://{host}:{emulator_port}"
    # The emulator accepts any credentials; boto3 still insists on having some.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    local_settings = replace(
        settings,
        aws_endpoint_url=endpoint,
        s3_public_endpoint_url=None,
        # One process: a per-process cursor secret is right here.
        cursor_secret_is_ephemeral=False,
    )
    create_resources(local_settings)
    app = create_app(local_settings)
    print(f"mPyCloud API:  http://{host}:{port}/images", flush=True)
    print(f"API docs:      http://{host}:{port}/docs", flush=True)
    print(f"embedded S3 + DynamoDB (moto): {endpoint}  (in memory, gone on exit)", flush=True)
    try:
        app.run(host=host, port=port, threaded=True, use_reloader=False)
    finally:
        emulator.stop()
