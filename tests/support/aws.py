"""moto's in-process S3 + DynamoDB for fixtures of any scope."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from moto import mock_aws

from service.entrypoints.provisioning import create_resources
from service.settings import Settings


@contextmanager
def moto_environment(settings: Settings) -> Iterator[Settings]:
    """Fake credentials, no endpoint override, moto's mock on, bucket and table created."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            patch.setenv(name, "testing")
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        patch.delenv("AWS_PROFILE", raising=False)
        with mock_aws():
            create_resources(settings)
            yield settings


CURSOR_SECRET = "test-cursor-secret-0123456789"


def small_settings(**overrides: Any) -> Settings:
    """Small limits so that the limits are cheap to test."""
    values: dict[str, Any] = {
        "s3_bucket_name": "test-images-bucket",
        "dynamodb_table_name": "test-images",
        "max_file_size": 512 * 1024,
        "max_image_pixels": 4_000_000,
        "max_image_frames": 10,
        "cursor_secret": CURSOR_SECRET,
        # The unauthenticated contract; sign-in has tests of its own.
        "auth_mode": "none",
        # Most tests upload the same fixture bytes again and again; those of duplicate
        # detection ask for it (DEDUPE=per-user, the service's default).
        "dedupe": "off",
    }
    return Settings(**{**values, **overrides})


def create_moto_table(backend: Any, name: str, *, range_key: bool = True) -> None:
    """A table of string keys ``pk`` (and ``sk``) straight on a moto ``DynamoDBBackend``."""
    schema = [{"AttributeName": "pk", "KeyType": "HASH"}]
    attributes = [{"AttributeName": "pk", "AttributeType": "S"}]
    if range_key:
        schema.append({"AttributeName": "sk", "KeyType": "RANGE"})
        attributes.append({"AttributeName": "sk", "AttributeType": "S"})
    backend.create_table(
        name,
        schema=schema,
        throughput=None,
        attr=attributes,
        global_indexes=None,
        indexes=None,
        streams=None,
        billing_mode="PAY_PER_REQUEST",
        sse_specification=None,
        tags=[],
        deletion_protection_enabled=False,
        warm_throughput=None,
    )
