"""Settings.from_env: defaults, parsing, and start-up errors that name the setting."""

from __future__ import annotations

import pytest

from service.domain.model import ACCEPTED_CONTENT_TYPES
from service.settings import (
    LAMBDA_MAX_REQUEST_BODY,
    ServerSettings,
    Settings,
    SettingsError,
)


def test_given_an_empty_environment_then_the_defaults_apply() -> None:
    settings = Settings.from_env({})

    assert settings.s3_bucket_name == "image-storage-bucket"
    assert settings.dynamodb_table_name == "images"
    assert settings.max_file_size == 256 * 1024 * 1024  # upload sessions
    assert settings.max_direct_upload_size == 16 * 1024 * 1024  # POST /images
    assert settings.allowed_content_types == ACCEPTED_CONTENT_TYPES
    assert settings.aws_endpoint_url is None
    assert settings.s3_public_endpoint_url is None
    assert settings.aws_default_region == "us-east-1"
    assert settings.log_level == "INFO"
    assert settings.max_image_pixels == 50_000_000
    assert settings.max_image_frames == 200
    assert settings.download_url_ttl == 900
    assert settings.sweep_grace_seconds == 900
    assert settings.max_request_body is None
    assert settings.cursor_secret is None  # one per process, made by the wiring


def test_blank_values_count_as_unset() -> None:
    settings = Settings.from_env({"MAX_FILE_SIZE": "  ", "S3_BUCKET_NAME": "", "LOG_LEVEL": " "})

    assert settings.max_file_size == 256 * 1024 * 1024
    assert settings.s3_bucket_name == "image-storage-bucket"
    assert settings.log_level == "INFO"


def test_given_every_setting_then_each_is_read() -> None:
    settings = Settings.from_env(
        {
            "S3_BUCKET_NAME": "b",
            "DYNAMODB_TABLE_NAME": "t",
            "MAX_FILE_SIZE": " 1024 ",
            "ALLOWED_CONTENT_TYPES": "image/png",
            "AWS_ENDPOINT_URL": "http://localstack:4566/",
            "S3_PUBLIC_ENDPOINT_URL": "https://s3.example.com",
            "AWS_DEFAULT_REGION": "eu-west-3",
            "LOG_LEVEL": "debug",
            "MAX_IMAGE_PIXELS": "100",
            "MAX_IMAGE_FRAMES": "1",
            "DOWNLOAD_URL_TTL": "43200",
            "SWEEP_GRACE_SECONDS": "0",
            "CURSOR_SECRET": "s" * 16,
            "MAX_REQUEST_BODY": "2048",
        }
    )

    assert settings == Settings(
        s3_bucket_name="b",
        dynamodb_table_name="t",
        max_file_size=1024,
        allowed_content_types=("image/png",),
        aws_endpoint_url="http://localstack:4566",
        s3_public_endpoint_url="https://s3.example.com",
        aws_default_region="eu-west-3",
        log_level="DEBUG",
        max_image_pixels=100,
        max_image_frames=1,
        download_url_ttl=43200,
        sweep_grace_seconds=0,
        cursor_secret="s" * 16,
        max_request_body=2048,
    )
    assert "s" * 16 not in repr(settings)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MAX_FILE_SIZE", "abc"),
        ("MAX_FILE_SIZE", "0"),
        ("MAX_FILE_SIZE", "-1"),
        ("MAX_FILE_SIZE", "1.5"),
        ("MAX_IMAGE_PIXELS", "0"),
        ("MAX_IMAGE_FRAMES", "many"),
        ("DOWNLOAD_URL_TTL", "0"),
        ("DOWNLOAD_URL_TTL", "43201"),
        ("SWEEP_GRACE_SECONDS", "-1"),
        ("MAX_REQUEST_BODY", "-5"),
        ("MAX_REQUEST_BODY", "4MB"),
        ("LOG_LEVEL", "LOUD"),
        ("AWS_ENDPOINT_URL", "localhost:4566"),
        ("AWS_ENDPOINT_URL", "ftp://example.com"),
        ("S3_PUBLIC_ENDPOINT_URL", "http://"),
        ("CURSOR_SECRET", "too-short"),
        ("ALLOWED_CONTENT_TYPES", "image/bmp"),
        ("ALLOWED_CONTENT_TYPES", "image/jpeg,text/plain"),
        ("ALLOWED_CONTENT_TYPES", ","),
    ],
)
def test_a_bad_value_fails_with_an_error_naming_the_setting(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("image/jpeg", ("image/jpeg",)),
        ("IMAGE/PNG, image/jpeg", ("image/png", "image/jpeg")),
        ("image/png,image/png,image/gif", ("image/png", "image/gif")),
        ("image/webp,", ("image/webp",)),
        (",".join(ACCEPTED_CONTENT_TYPES), ACCEPTED_CONTENT_TYPES),
    ],
)
def test_allowed_content_types_are_parsed(value: str, expected: tuple[str, ...]) -> None:
    assert Settings.from_env({"ALLOWED_CONTENT_TYPES": value}).allowed_content_types == expected


def test_in_lambda_the_request_body_limit_defaults_to_the_lambda_payload_limit() -> None:
    lambda_env = {"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"}

    assert Settings.from_env(lambda_env).max_request_body == LAMBDA_MAX_REQUEST_BODY
    assert Settings.from_env({**lambda_env, "MAX_REQUEST_BODY": "1000"}).max_request_body == 1000
    assert Settings.from_env({**lambda_env, "MAX_REQUEST_BODY": "0"}).max_request_body is None
    assert Settings.from_env({}).max_request_body is None


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"AWS_REGION": "eu-west-1"}, "eu-west-1"),
        ({"AWS_DEFAULT_REGION": "ap-south-1", "AWS_REGION": "eu-west-1"}, "ap-south-1"),
        ({"AWS_DEFAULT_REGION": " ", "AWS_REGION": "eu-west-1"}, "eu-west-1"),
        ({}, "us-east-1"),
    ],
)
def test_region_falls_back_to_aws_region(env: dict[str, str], expected: str) -> None:
    assert Settings.from_env(env).aws_default_region == expected


def test_the_server_settings_default_to_two_threaded_workers() -> None:
    assert ServerSettings.from_env({}) == ServerSettings(
        port=8000, worker_class="gthread", workers=2, threads=8, timeout=60
    )


def test_the_server_settings_are_read_from_their_variables() -> None:
    env = {
        "PORT": "9000",
        "GUNICORN_WORKER_CLASS": "SYNC",
        "GUNICORN_WORKERS": "4",
        "GUNICORN_THREADS": "1",
        "GUNICORN_TIMEOUT": "30",
    }
    assert ServerSettings.from_env(env) == ServerSettings(
        port=9000, worker_class="sync", workers=4, threads=1, timeout=30
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GUNICORN_WORKERS", "two"),
        ("GUNICORN_WORKERS", "0"),
        ("GUNICORN_THREADS", "-1"),
        ("GUNICORN_TIMEOUT", "1.5"),
        ("GUNICORN_WORKER_CLASS", "eventlet"),
        ("PORT", "70000"),
    ],
)
def test_a_bad_server_setting_fails_with_its_name(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        ServerSettings.from_env({name: value})


def test_from_env_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S3_BUCKET_NAME", "from-os-environ")

    assert Settings.from_env().s3_bucket_name == "from-os-environ"
