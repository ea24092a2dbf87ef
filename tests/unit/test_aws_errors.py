"""AWS failures as domain errors: what the request caused is never a 503."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ParamValidationError

from service.adapters.aws_errors import translate_errors
from service.domain.errors import (
    ImageConflict,
    ImageServiceError,
    StorageRefusedInput,
    StorageUnavailable,
)


def client_error(code: str, **extra: Any) -> ClientError:
    response: Any = {"Error": {"Code": code, "Message": "m"}, **extra}
    return ClientError(response, "TransactWriteItems")


def cancelled(*codes: str) -> ClientError:
    reasons = [{"Code": code} for code in codes]
    return client_error("TransactionCanceledException", CancellationReasons=reasons)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (client_error("ValidationException"), StorageRefusedInput),
        (client_error("SerializationException"), StorageRefusedInput),
        (cancelled("None", "ValidationError"), StorageRefusedInput),
        (ParamValidationError(report="Invalid type for parameter Item"), StorageRefusedInput),
        (client_error("ConditionalCheckFailedException"), ImageConflict),
        (cancelled("ConditionalCheckFailed", "None"), ImageConflict),
        (client_error("ProvisionedThroughputExceededException"), StorageUnavailable),
        (client_error("InternalServerError"), StorageUnavailable),
        (cancelled("None", "ThrottlingError"), StorageUnavailable),
        (EndpointConnectionError(endpoint_url="http://nowhere"), StorageUnavailable),
    ],
    ids=[
        "validation",
        "serialization",
        "transaction-validation",
        "param-validation",
        "condition",
        "transaction-condition",
        "throughput",
        "internal",
        "transaction-throttled",
        "connection",
    ],
)
def test_each_failure_becomes_the_domain_error_of_its_cause(
    error: Exception, expected: type[ImageServiceError]
) -> None:
    with pytest.raises(ImageServiceError) as caught, translate_errors("record the image"):
        raise error

    assert type(caught.value) is expected
    assert "record the image" in caught.value.message
