"""The decoding settings: defaults, parsing, and errors that name the setting."""

from __future__ import annotations

import pytest

from service.settings import Settings, SettingsError


def test_the_defaults_fit_the_ecs_task() -> None:
    settings = Settings.from_env({})

    assert settings.max_concurrent_decodes == 2
    assert settings.decode_wait_seconds == 10
    assert settings.max_decoded_bytes == 128 * 1024 * 1024
    assert settings.max_lossless_decoded_bytes == 64 * 1024 * 1024


def test_each_decoding_setting_is_read() -> None:
    settings = Settings.from_env(
        {
            "MAX_CONCURRENT_DECODES": "4",
            "DECODE_WAIT_SECONDS": "0",
            "MAX_DECODED_BYTES": "1000000",
            "MAX_LOSSLESS_DECODED_BYTES": " 500000 ",
        }
    )

    assert settings.max_concurrent_decodes == 4
    assert settings.decode_wait_seconds == 0
    assert settings.max_decoded_bytes == 1_000_000
    assert settings.max_lossless_decoded_bytes == 500_000


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MAX_CONCURRENT_DECODES", "0"),
        ("MAX_CONCURRENT_DECODES", "two"),
        ("DECODE_WAIT_SECONDS", "-1"),
        ("DECODE_WAIT_SECONDS", "61"),
        ("DECODE_WAIT_SECONDS", "1.5"),
        ("MAX_DECODED_BYTES", "0"),
        ("MAX_DECODED_BYTES", "128MiB"),
        ("MAX_LOSSLESS_DECODED_BYTES", "-1"),
    ],
)
def test_a_bad_value_fails_with_an_error_naming_the_setting(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})
