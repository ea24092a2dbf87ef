"""The embedded S3 + DynamoDB of ``make run``: moto's server with three corrections.

    python -m devtools.emulator [-H HOST] [-p PORT]

moto's server (the version pinned in requirements-emulator.txt) falls over as the table grows
and under concurrent writers, in ways real DynamoDB and LocalStack do not. This module starts
the same server with its DynamoDB transaction handling corrected, in the emulator's own process
only (the service never imports it; the tests' in-process moto is left as it is):

1. **Requests are serialised** (:class:`Serialised`). moto's backends are not thread-safe: a
   transaction iterating a table while another request inserts into it raises ``RuntimeError:
   dictionary changed size during iteration``, which the client gets as HTTP 500. One lock
   around every request makes each one atomic, as a transaction must be.
2. **A cancelled transaction is undone from a journal** (:func:`transact_write_items`). moto
   deep-copies the whole table once per item of every ``TransactWriteItems`` to be able to roll
   back, so each transaction costs time proportional to the table: uploads slowed down
   steadily and finally timed out. The replacement copies only the items the transaction
   touches, before touching them, and puts exactly those back if the transaction is cancelled.
3. **ClientRequestToken is honoured** (:class:`IdempotencyTokens`). botocore sends a token with
   every ``TransactWriteItems`` and reuses it when it retries (e.g. after a read timeout). moto
   ignores it, so a retry of a transaction that had in fact been applied runs again and fails
   its own conditions. As DynamoDB does, a token seen in the last 10 minutes with the same
   request answers with the first success without applying anything; with another request it
   is an ``IdempotentParameterMismatchException``.

moto is a development dependency: this module imports it only when it runs.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import signal
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

# How long DynamoDB remembers a ClientRequestToken after the request that used it completed.
TOKEN_TTL_SECONDS = 600

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class Serialised:
    """WSGI middleware: one request at a time, its whole response produced under the lock."""

    def __init__(self, app: WSGIApp) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self._lock:
            response = self._app(environ, start_response)
            try:
                # moto builds its answers in memory; draining them here keeps the backend
                # untouched by other requests until this one is complete.
                return [b"".join(response)]
            finally:
                close = getattr(response, "close", None)
                if close is not None:
                    close()


class IdempotencyTokens:
    """The ``ClientRequestToken`` memory of ``TransactWriteItems``: token -> first success.

    Only successes are remembered: a cancelled transaction applied nothing, so running it again
    is what DynamoDB does too. Callers hold :class:`Serialised`'s lock, so no lock of its own.
    """

    def __init__(
        self, ttl_seconds: float = TOKEN_TTL_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl_seconds
        self._clock = clock
        # token -> (fingerprint of the request, result, when it completed); oldest first.
        self._seen: OrderedDict[str, tuple[str, Any, float]] = OrderedDict()

    def run(self, token: str, request: Any, action: Callable[[], Any]) -> Any:
        self._forget_expired()
        fingerprint = _fingerprint(request)
        if token in self._seen:
            seen_fingerprint, result, _ = self._seen[token]
            if seen_fingerprint != fingerprint:
                raise _idempotent_parameter_mismatch()
            return result
        result = action()
        self._seen[token] = (fingerprint, result, self._clock())
        return result

    def __len__(self) -> int:
        return len(self._seen)

    def _forget_expired(self) -> None:
        horizon = self._clock() - self._ttl
        while self._seen:
            token, (_, _, completed) = next(iter(self._seen.items()))
            if completed > horizon:
                break
            del self._seen[token]


def _fingerprint(request: Any) -> str:
    text = json.dumps(request, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _idempotent_parameter_mismatch() -> Exception:
    from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX, DynamodbException

    error: Exception = DynamodbException(
        ERROR_TYPE_PREFIX + "IdempotentParameterMismatchException",
        "The request uses the same client token as a previous, but non-identical request.",
    )
    return error


def transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
    """``DynamoDBBackend.transact_write_items`` with a journal instead of table copies.

    The checks, their order and the errors are moto's own (``moto/dynamodb/models``); only the
    way back differs: the first time an item is about to change, a copy of it (or the fact that
    it did not exist) goes into the journal, and a cancelled transaction restores exactly those
    items. Every way out by an exception restores them, including the validation errors that
    moto raises after having applied earlier items.
    """
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    journal: dict[tuple[str, Any, Any], Any] = {}
    targets: set[tuple[str, str]] = set()
    errors: list[tuple[str | None, str | None, dict[str, Any] | None]] = []
    try:
        for entry in transact_items:
            if len(entry) > 1:
                raise TransactWriteSingleOpException()
            original_item: dict[str, Any] | None = None
            try:
                op_type, op = next(iter(entry.items()))
                if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                    raise ValueError("Unsupported transaction operation")
                table_name = op["TableName"]
                table = backend.get_table(table_name)
                key = _key_of(table, op) if op_type == "Put" else op["Key"]
                target = (str(table_name), str(dict(sorted(key.items()))))
                if target in targets:
                    raise MultipleTransactionsException()
                targets.add(target)

                condition = op.get("ConditionExpression")
                names = op.get("ExpressionAttributeNames")
                values = op.get("ExpressionAttributeValues")
                current = backend.get_item(table_name, key)
                if condition is not None and not _holds(condition, names, values, current):
                    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                        original_item = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=original_item)
                if op_type == "ConditionCheck":
                    errors.append((None, None, None))
                    continue

                # Each item appears once in a transaction (checked above): its first state.
                hash_value, range_value = backend.get_keys_value(table, key)
                journal[(table_name, hash_value, range_value)] = copy.deepcopy(current)
                if op_type == "Put":
                    backend.put_item(
                        table_name,
                        op["Item"],
                        condition_expression=condition,
                        expression_attribute_names=names,
                        expression_attribute_values=values,
                    )
                elif op_type == "Delete":
                    backend.delete_item(
                        table_name,
                        key,
                        condition_expression=condition,
                        expression_attribute_names=names,
                        expression_attribute_values=values,
                    )
                else:
                    backend.update_item(
                        table_name,
                        key,
                        update_expression=op["UpdateExpression"],
                        condition_expression=condition,
                        expression_attribute_names=names,
                        expression_attribute_values=values,
                    )
                errors.append((None, None, None))
            except (MultipleTransactionsException, MockValidationException):
                raise
            except ConditionalCheckFailed as error:
                errors.append(("ConditionalCheckFailed", str(error.message), original_item))
            except Exception as error:  # moto's behaviour: any other failure cancels too
                errors.append((type(error).__name__, str(error), original_item))
        if any(code is not None for code, _, _ in errors):
            raise TransactionCanceledException(errors)
    except BaseException:
        _restore(backend, journal)
        raise


def _key_of(table: Any, op: dict[str, Any]) -> dict[str, Any]:
    attrs = op["Item"]
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return key


def _holds(condition: str, names: Any, values: Any, current: Any) -> bool:
    from moto.dynamodb.comparisons import get_filter_expression

    return bool(get_filter_expression(condition, names, values).expr(current))


def _restore(backend: Any, journal: dict[tuple[str, Any, Any], Any]) -> None:
    """Put every journaled item back as it was, in the table's own storage layout."""
    for (table_name, hash_value, range_value), before in reversed(journal.items()):
        table = backend.tables[table_name]
        if before is None:
            table.delete_item(hash_value, range_value)
        elif range_value is not None:
            table.items[hash_value][range_value] = before
        else:
            table.items[hash_value] = before


def install(tokens: IdempotencyTokens | None = None) -> None:
    """Correct moto's DynamoDB transactions in this process (the emulator's, not the tests')."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    memory = tokens or IdempotencyTokens()
    moto_handler = DynamoHandler.transact_write_items

    def handler(self: Any) -> Any:
        token = self.body.get("ClientRequestToken")
        if not token:
            return moto_handler(self)
        request = {
            "account": self.current_account,
            "region": self.region,
            "items": self.body.get("TransactItems"),
        }
        return memory.run(token, request, lambda: moto_handler(self))

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign,assignment]
    DynamoHandler.transact_write_items = handler  # type: ignore[method-assign]


def create_app() -> WSGIApp:
    """moto's WSGI application, corrected and serialised."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    install()
    return Serialised(DomainDispatcherApplication(create_backend_app))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devtools.emulator", description=__doc__)
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args(argv)

    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import run_simple

    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    run_simple(
        args.host,
        args.port,
        create_app(),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
