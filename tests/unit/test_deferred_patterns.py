"""marshmallow's e-mail pattern, compiled on first use: the same answers as compiled at once."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from marshmallow import ValidationError, validate

from service.entrypoints.api.api_schema import ApiSchema
from service.entrypoints.api.deferred_patterns import SLOW_RANGE, DeferredPattern
from service.entrypoints.api.schemas import ImageSchema
from tests.support.concurrency import all_at_once

ADDRESSES = (
    "user@example.com",
    "user@exämple.com",
    "user@localhost",
    "user@[192.168.0.1]",
    "user@-example.com",
    "user@example",
    "user@example.c",
    "user@xn--bcher-kva.example",
    "user@" + "a" * 64 + ".com",
    '"quoted user"@example.com',
)


ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, re
compile_before = re.compile
import service.entrypoints.api
from marshmallow import validate
domain, user = validate.Email.DOMAIN_REGEX, validate.Email.USER_REGEX
print(json.dumps({
    "domain": type(domain).__name__, "compiled": domain.compiled,
    "user": type(user).__name__, "restored": re.compile is compile_before,
}))
"""


def test_importing_the_api_imports_marshmallow_with_its_slow_pattern_deferred() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True
    )

    assert json.loads(done.stdout) == {
        "domain": "DeferredPattern",
        "compiled": False,
        "user": "Pattern",  # cheap: compiled at once, as every other pattern
        "restored": True,
    }


def verdict(validator: validate.Email, address: str) -> bool:
    try:
        validator(address)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("address", ADDRESSES)
def test_the_email_validator_answers_as_with_a_pattern_compiled_at_once(address: str) -> None:
    source = validate.Email.DOMAIN_REGEX

    class Deferred(validate.Email):
        DOMAIN_REGEX = DeferredPattern(source.pattern, source.flags)  # type: ignore[assignment]

    class Eager(validate.Email):
        DOMAIN_REGEX = re.compile(source.pattern, source.flags)

    assert verdict(Deferred(), address) == verdict(Eager(), address)
    assert verdict(validate.Email(), address) == verdict(Eager(), address)


def test_a_deferred_pattern_compiles_once_on_first_use_whichever_threads_ask() -> None:
    pattern = DeferredPattern(f"[A-Z{SLOW_RANGE}]+", re.IGNORECASE)
    assert not pattern.compiled

    found = all_at_once(8, pattern._pattern)

    assert pattern.compiled
    assert all(compiled is found[0] for compiled in found)
    assert pattern.fullmatch("Ünïcode") is not None


def test_class_machinery_probing_a_deferred_pattern_does_not_compile_it() -> None:
    pattern = DeferredPattern(f"[{SLOW_RANGE}]", re.IGNORECASE)

    assert getattr(pattern, "__isabstractmethod__", False) is False
    assert "DeferredPattern(" in repr(pattern)
    assert not pattern.compiled


def test_a_schema_deep_copies_as_itself() -> None:
    schema = ImageSchema()

    assert isinstance(schema, ApiSchema)
    assert copy.deepcopy(schema) is schema
    assert copy.deepcopy({"schema": schema})["schema"] is schema
