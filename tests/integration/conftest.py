"""Real processes over real HTTP: moto's server, gunicorn serving the app, the CLI commands."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator

import pytest

from tests.integration.processes import BIN, ROOT, Stack, coverage_env, stop, wait_for
from tests.support.ports import free_port


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{url}/moto-api/", process)
        yield url
    finally:
        stop(process)


@pytest.fixture(scope="session")
def stack(moto_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """gunicorn (2 workers) serving the app against moto's server, resources made by the CLI."""
    suffix = uuid.uuid4().hex[:8]
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": moto_server,
        "S3_BUCKET_NAME": f"integration-{suffix}",
        "DYNAMODB_TABLE_NAME": f"integration-{suffix}",
        "CURSOR_SECRET": "integration-secret-0123456789",
        "MAX_FILE_SIZE": str(1024 * 1024),
        "LOG_LEVEL": "INFO",
        "AUTH_MODE": "none",
        # The flows upload the same fixture bytes again and again (tests/functional has DEDUPE's).
        "DEDUPE": "off",
        "PORT": str(port),
        "GUNICORN_WORKERS": "2",
        "GUNICORN_THREADS": "4",
        **coverage_env(),
    }
    log = tmp_path_factory.mktemp("gunicorn") / "stdout.log"
    created = Stack(f"http://127.0.0.1:{port}", moto_server, env, log).run("create-resources")
    assert created.returncode == 0, created.stderr
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", "python:service.gunicorn_conf", "service.wsgi:app"],
            env=env,
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(f"http://127.0.0.1:{port}/health", process)
            yield Stack(f"http://127.0.0.1:{port}", moto_server, env, log)
        finally:
            stop(process)
