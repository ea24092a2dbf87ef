"""Settings.from_env for sign-in, upload sessions, renditions and GPS: each variable is read,
and a bad value stops the start with an error that names it (tests/unit/test_settings.py has
the storage and limit settings)."""

from __future__ import annotations

import pytest

from service.domain.model import RENDITION_FORMATS
from service.settings import Settings, SettingsError


def test_the_defaults_sign_in_with_cognito_access_tokens_and_strip_gps() -> None:
    settings = Settings.from_env({})

    assert settings.auth_mode == "jwt"
    assert (settings.auth_issuer, settings.jwks_url, settings.auth_client_ids) == (None, None, ())
    assert (settings.auth_token_use, settings.auth_user_claim) == ("access", "username")
    assert (settings.admin_group, settings.public_read) == ("admins", False)
    assert settings.rendition_sizes == (256, 1024)
    assert settings.rendition_formats == RENDITION_FORMATS
    assert (settings.strip_gps, settings.gps_precision) == (True, 2)
    assert settings.dedupe == "per-user"
    assert not hasattr(settings, "prerender")  # the worker always stores the smallest one


def test_the_worker_defaults_long_poll_the_jobs_queue_within_their_own_budget() -> None:
    settings = Settings.from_env({})

    assert settings.jobs_queue_name == "mpycloud-jobs"
    assert settings.worker_wait_seconds == 20
    assert settings.worker_max_image_pixels == 120_000_000
    assert settings.worker_max_decoded_bytes == 512 * 1024 * 1024


def test_every_worker_and_direct_upload_setting_is_read() -> None:
    settings = Settings.from_env(
        {
            "JOBS_QUEUE_NAME": "jobs-staging",
            "WORKER_WAIT_SECONDS": "0",
            "WORKER_MAX_IMAGE_PIXELS": "1000",
            "WORKER_MAX_DECODED_BYTES": "4096",
            "MAX_DIRECT_UPLOAD_SIZE": "2048",
        }
    )

    assert settings.jobs_queue_name == "jobs-staging"
    assert settings.worker_wait_seconds == 0
    assert (settings.worker_max_image_pixels, settings.worker_max_decoded_bytes) == (1000, 4096)
    assert settings.max_direct_upload_size == 2048


def test_every_sign_in_upload_rendition_and_gps_setting_is_read() -> None:
    settings = Settings.from_env(
        {
            "AUTH_MODE": "JWT",
            "AUTH_ISSUER": "https://cognito-idp.eu-west-3.amazonaws.com/eu-west-3_Pool/",
            "AUTH_JWKS_URL": "https://keys.example.com/jwks.json",
            "AUTH_CLIENT_IDS": " web , cli,,web ",
            "AUTH_TOKEN_USE": "ID",
            "AUTH_USER_CLAIM": "email",
            "ADMIN_GROUP": "moderators",
            "PUBLIC_READ": "True",
            "COGNITO_ENDPOINT_URL": "http://cognito.local:9229",
            "MULTIPART_THRESHOLD": str(5 * 1024 * 1024),
            "UPLOAD_SESSION_TTL": "60",
            "DEDUPE": "OFF",
            "RENDITION_SIZES": "1024, 64,64,2048",
            "RENDITION_FORMATS": "WEBP, avif, webp",
            "THUMBNAIL_URL_TTL": "120",
            "STRIP_GPS": "FALSE",
            "GPS_PRECISION": "6",
        }
    )

    assert settings.auth_mode == "jwt"
    assert settings.auth_issuer == "https://cognito-idp.eu-west-3.amazonaws.com/eu-west-3_Pool"
    assert settings.jwks_url == "https://keys.example.com/jwks.json"
    assert settings.auth_client_ids == ("web", "cli")
    assert (settings.auth_token_use, settings.auth_user_claim) == ("id", "email")
    assert (settings.admin_group, settings.public_read) == ("moderators", True)
    assert settings.cognito_endpoint_url == "http://cognito.local:9229"
    assert settings.multipart_threshold == 5 * 1024 * 1024
    assert settings.upload_session_ttl == 60
    assert settings.dedupe == "off"
    assert settings.rendition_sizes == (64, 1024, 2048)
    assert settings.rendition_formats == ("jpeg", "webp", "avif")  # JPEG: always, first
    assert settings.thumbnail_url_ttl == 120
    assert (settings.strip_gps, settings.gps_precision) == (False, 6)


def test_without_a_jwks_url_the_keys_are_the_issuers_well_known_ones() -> None:
    settings = Settings.from_env({"AUTH_ISSUER": "https://issuer.example.com/pool"})

    assert settings.jwks_url == "https://issuer.example.com/pool/.well-known/jwks.json"


def test_auth_mode_none_serves_without_sign_in() -> None:
    assert Settings.from_env({"AUTH_MODE": "none"}).auth_mode == "none"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("AUTH_MODE", "basic"),
        ("AUTH_ISSUER", "cognito-idp.amazonaws.com/pool"),
        ("AUTH_JWKS_URL", "file:///etc/jwks.json"),
        ("AUTH_TOKEN_USE", "refresh"),
        ("PUBLIC_READ", "yes"),
        ("PUBLIC_READ", "1"),
        ("COGNITO_ENDPOINT_URL", "localhost:9229"),
        ("MULTIPART_THRESHOLD", str(5 * 1024 * 1024 - 1)),  # S3's smallest part is 5 MiB
        ("MULTIPART_THRESHOLD", str(5 * 1024**3 + 1)),
        ("UPLOAD_SESSION_TTL", "59"),
        ("UPLOAD_SESSION_TTL", "43201"),  # longer than a role session's presigned URL lives
        ("DEDUPE", "global"),
        ("RENDITION_SIZES", "small,large"),
        ("RENDITION_SIZES", "15"),
        ("RENDITION_SIZES", "4097"),
        ("RENDITION_SIZES", ",,"),
        ("RENDITION_SIZES", "16,32,64,128,256,512,1024,2048,4096"),  # nine sizes
        ("RENDITION_FORMATS", "png"),
        ("RENDITION_FORMATS", "webp,heic"),
        ("WORKER_WAIT_SECONDS", "21"),  # SQS's longest long poll is 20 s
        ("WORKER_WAIT_SECONDS", "-1"),
        ("WORKER_MAX_IMAGE_PIXELS", "0"),
        ("WORKER_MAX_DECODED_BYTES", "0"),
        ("MAX_DIRECT_UPLOAD_SIZE", "0"),
        ("THUMBNAIL_URL_TTL", "119"),
        ("STRIP_GPS", "no"),
        ("GPS_PRECISION", "7"),
        ("GPS_PRECISION", "-1"),
    ],
)
def test_a_bad_value_fails_with_an_error_naming_the_setting(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


@pytest.mark.parametrize(
    ("value", "expected"),
    [("16", (16,)), ("4096,16", (16, 4096)), ("256,,1024,", (256, 1024))],
)
def test_rendition_sizes_are_sorted_each_once_within_the_bounds(
    value: str, expected: tuple[int, ...]
) -> None:
    assert Settings.from_env({"RENDITION_SIZES": value}).rendition_sizes == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("jpeg", ("jpeg",)), ("avif", ("jpeg", "avif")), (" , webp", ("jpeg", "webp"))],
)
def test_jpeg_is_always_among_the_rendition_formats(value: str, expected: tuple[str, ...]) -> None:
    assert Settings.from_env({"RENDITION_FORMATS": value}).rendition_formats == expected
