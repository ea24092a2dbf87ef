"""Fixtures of the gallery's functional tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.aws import moto_environment
from tests.support.gallery import gallery_app, jwt_settings


@pytest.fixture(scope="module")
def gallery() -> Iterator[Flask]:
    """The app with sign-in on (tests/support/gallery.py), on moto's in-process S3 + DynamoDB:
    one per test module."""
    with moto_environment(jwt_settings()) as settings:
        yield gallery_app(settings)


@pytest.fixture
def browser(gallery: Flask) -> FlaskClient:
    """A fresh visitor of the gallery (its own cookie jar)."""
    return gallery.test_client()
