"""Translation of AWS failures (S3, DynamoDB) into domain errors, at the adapter boundary."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from service.domain.errors import ImageConflict, StorageRefusedInput, StorageUnavailable

# DynamoDB's answers to a write whose condition no longer holds.
_CONFLICTS = {"ConditionalCheckFailedException", "TransactionConflictException"}
# Caused by what the request carried: the same request would fail again, so never a 503.
_REFUSED_INPUT = {"ValidationException", "SerializationException"}


@contextmanager
def translate_errors(action: str) -> Iterator[None]:
    """``action`` completes "Could not ..." in the domain error's message."""
    try:
        yield
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in _CONFLICTS or _cancelled_by_condition(error):
            raise ImageConflict(
                f"Could not {action}: the image changed meanwhile; retry"
            ) from error
        if code in _REFUSED_INPUT or _cancelled_by_validation(error):
            raise StorageRefusedInput(
                f"Could not {action}: the data was refused ({code})"
            ) from error
        raise StorageUnavailable(f"Could not {action} ({code or 'ClientError'})") from error
    except ParamValidationError as error:
        raise StorageRefusedInput(f"Could not {action}: the data was refused") from error
    except BotoCoreError as error:
        raise StorageUnavailable(f"Could not {action} ({type(error).__name__})") from error


def _cancelled_by_condition(error: ClientError) -> bool:
    reasons = error.response.get("CancellationReasons", [])
    return any(reason.get("Code") == "ConditionalCheckFailed" for reason in reasons)


def _cancelled_by_validation(error: ClientError) -> bool:
    reasons = error.response.get("CancellationReasons", [])
    return any(reason.get("Code") == "ValidationError" for reason in reasons)
