"""Helpers of the container tests: names, the emulator's address, the service's environment,
and waiting for a container. The fixtures in conftest.py and the test modules share them."""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from testcontainers.core.container import DockerContainer
from testcontainers.core.network import Network

from tests.support.tokens import CLIENT_ID, ISSUER, TokenIssuer

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# One tag per checkout: test runs of several work trees on one Docker engine must not run each
# other's image.
IMAGE_TAG = f"mpycloud:containers-test-{zlib.crc32(str(PROJECT_ROOT).encode()):08x}"
LOCALSTACK_IMAGE = "localstack/localstack:4.14.0"
MOTO_IMAGE = "motoserver/moto:latest"
EMULATOR_ALIAS = "aws"
BUCKET = "containers-test-images"
TABLE = "containers-test-images"
REGION = "us-east-1"
CURSOR_SECRET = "containers-test-cursor-secret-0123456789"


def read_only(container: DockerContainer) -> DockerContainer:
    """As in production: a read-only root file system, only /tmp writable."""
    return container.with_tmpfs_mount("/tmp").with_kwargs(read_only=True)


def wait_until(description: str, check: Any, timeout: float, logs: Any = None) -> None:
    deadline = time.monotonic() + timeout
    last_error: object = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception as error:  # anything means "not yet"
            last_error = error
        time.sleep(0.25)
    detail = f"; last error: {last_error!r}" if last_error else ""
    output = f"\n--- container logs ---\n{logs()}" if logs else ""
    pytest.fail(f"{description} not ready after {timeout:.0f}s{detail}{output}")


def container_logs(container: DockerContainer, last: int = 8000) -> str:
    """The last ``last`` characters of what the container wrote (0: all of it)."""
    out, err = container.get_logs()
    return (out + err).decode(errors="replace")[-last:]


@dataclass(frozen=True)
class Emulator:
    kind: str
    internal_url: str  # from containers on the test network
    host_url: str  # from this process (and from containers on the host network)


# Signs the tokens of the containers that run with sign-in on; its JWKS is served from the
# test process (tests/support/tokens.py), which those containers reach on the host network.
ISSUER_KEYS = TokenIssuer()


def signed_in_env(jwks_url: str) -> dict[str, str]:
    return {
        "AUTH_MODE": "jwt",
        "AUTH_ISSUER": ISSUER,
        "AUTH_JWKS_URL": jwks_url,
        "AUTH_CLIENT_IDS": CLIENT_ID,
    }


def bearer(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {ISSUER_KEYS.token(user)}"}


def service_env(aws_endpoint_url: str, s3_public_endpoint_url: str) -> dict[str, str]:
    """Without sign-in (AUTH_MODE=none): the unauthenticated contract, unless overridden."""
    return {
        "AUTH_MODE": "none",
        "AWS_ENDPOINT_URL": aws_endpoint_url,
        "S3_PUBLIC_ENDPOINT_URL": s3_public_endpoint_url,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "S3_BUCKET_NAME": BUCKET,
        "DYNAMODB_TABLE_NAME": TABLE,
        "CURSOR_SECRET": CURSOR_SECRET,
        "LOG_LEVEL": "INFO",
        # The flows upload the same fixture bytes again and again (tests/functional has DEDUPE's).
        "DEDUPE": "off",
        # Upload sessions take the 40 MB multipart and 12 MB Lambda uploads of the tests.
        "MAX_FILE_SIZE": str(64 * 1024 * 1024),
    }


# --- the worker and its queue ----------------------------------------------------------------

# The name create-resources gives the dead letters of JOBS_QUEUE_NAME.
DEAD_LETTERS_SUFFIX = "-dead-letters"
# How long an idle worker's receive waits: short, so that a stopped worker exits soon.
WORKER_WAIT_SECONDS = "1"


def aws_client(service: str, emulator: Emulator) -> Any:
    """A boto3 client of the emulator, from this process (close it after use)."""
    make: Any = boto3.client  # typed per literal service name; here any
    return make(
        service,
        endpoint_url=emulator.host_url,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


class WorkerContainer(DockerContainer):
    """A worker stopped as ECS stops one: SIGTERM, then removed once it exited. Removed at once
    (SIGKILL), it would leave its receive pending on the queue, which would hand the next
    job sent to nobody, to be seen again only after the queue's visibility timeout."""

    def stop(self, force: bool = True, delete_volume: bool = True) -> None:
        if self._container:
            self._container.stop(timeout=60)
        super().stop(force, delete_volume)


def worker_container(image: str, network: Network, env: dict[str, str]) -> DockerContainer:
    """The image as the ECS worker runs it: ``python -m service worker`` (not started)."""
    container = (
        WorkerContainer(image)
        .with_envs(**env)
        .with_env("WORKER_WAIT_SECONDS", WORKER_WAIT_SECONDS)
        .with_network(network)
        .with_command(["python", "-m", "service", "worker"])
    )
    return read_only(container)


def wait_for_worker(container: DockerContainer) -> None:
    """Until the worker logs that it takes jobs."""
    wait_until(
        "worker taking jobs",
        lambda: "worker taking jobs" in container_logs(container),
        timeout=60,
        logs=lambda: container_logs(container),
    )


def run_to_end(
    image: str, network: Network, env: dict[str, str], command: list[str], timeout: float = 120
) -> tuple[int, str, str]:
    """Run ``command`` in the image to its end: its exit status, stdout and stderr."""
    container = read_only(
        DockerContainer(image).with_envs(**env).with_network(network).with_command(command)
    )
    with container:
        status = container.get_wrapped_container().wait(timeout=timeout)["StatusCode"]
        out, err = container.get_logs()
    return int(status), out.decode(errors="replace"), err.decode(errors="replace")


@dataclass(frozen=True)
class JobsStack:
    """An API container sending jobs to a queue of its own, which no worker serves until a
    test starts one (``worker_env`` is the environment of the workers on that queue)."""

    api_url: str
    queue_name: str
    worker_env: dict[str, str]
    lambda_env: dict[str, str]  # for a container on the host network (Lambda mode)
