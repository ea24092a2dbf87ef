"""Property-based requests generated from our own OpenAPI document: none may get a 500.

schemathesis derives valid and invalid requests for every operation from /openapi.json and
sends them to the app (in-process, moto behind it). The only check: no server error. That the
answers to invalid data are the right 4xx is asserted case by case in test_bad_input.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Ok

from service.app import create_app
from tests.support.aws import moto_environment, small_settings


@pytest.fixture(scope="module")
def fuzzed_app() -> Iterator[Flask]:
    with moto_environment(small_settings(s3_bucket_name="fuzz-bucket")) as settings:
        yield create_app(settings)


def test_no_generated_request_gets_a_server_error(fuzzed_app: Flask) -> None:
    schema = schemathesis.openapi.from_wsgi("/openapi.json", fuzzed_app)
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results), results  # every operation in the document parses
    assert len(operations) >= 7  # every documented operation is exercised
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=40,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def no_server_error(case: schemathesis.Case[Any]) -> None:
            response = case.call()
            assert response.status_code < 500, (case.method, case.path, response.text)

        no_server_error()
