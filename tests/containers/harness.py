"""Helpers of the container tests: names, the emulator's address, the service's environment,
and waiting for a container. The fixtures in conftest.py and the test modules share them."""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from testcontainers.core.container import DockerContainer

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


def container_logs(container: DockerContainer) -> str:
    out, err = container.get_logs()
    return (out + err).decode(errors="replace")[-8000:]


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
