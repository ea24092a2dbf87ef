"""Reading the limits of the OpenAPI document: the longest request a client may send."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

import jsonschema_rs

# What percent-encoding may make of a character: the candidates cover each encoded length.
CANDIDATES = [chr(code) for code in range(0x20, 0x7F)] + ["é", "中", "\U00020000"]
# An RFC 3339 date-time of 40 characters, the most a date parameter may have.
LONGEST_DATE = "2026-11-05T10:30:00.12345678901234+01:00"


def parameters(spec: dict[str, Any], path: str) -> dict[str, dict[str, Any]]:
    operation = spec["paths"][path]["get"]
    return {p["name"]: p["schema"] for p in operation["parameters"] if p["in"] == "query"}


def validator(schema: dict[str, Any]) -> Any:
    return jsonschema_rs.validator_for(schema, validate_formats=True)


def longest_value(schema: dict[str, Any]) -> str:
    """The schema-valid value of a query parameter that percent-encodes the longest."""
    if "enum" in schema:
        return max((str(value) for value in schema["enum"]), key=lambda v: len(quote(v)))
    if schema.get("type") == "integer":
        return str(schema["maximum"])
    if "anyOf" in schema:  # a date
        assert validator(schema).is_valid(LONGEST_DATE)
        return LONGEST_DATE
    one = validator({**schema, "minLength": 0})
    allowed = [char for char in CANDIDATES if one.is_valid(char)]
    if not allowed:
        # A structured pattern (a list of ids) that no single character matches. If it is
        # ASCII, no value of it encodes longer than maxLength characters encoded as 3 bytes.
        assert schema["pattern"].isascii(), schema
        assert "\\p" not in schema["pattern"], schema
        return "," * int(schema["maxLength"])
    char = max(allowed, key=lambda c: len(quote(c, safe="")))
    value = char * int(schema["maxLength"])
    assert validator(schema).is_valid(value), schema
    return value


def longest_listing_query(spec: dict[str, Any], names: set[str] | None = None) -> str:
    """The query string of GET /images with every parameter (or those of ``names``) at its
    longest."""
    pairs: list[tuple[str, str]] = []
    for name, schema in parameters(spec, "/images").items():
        if names is not None and name not in names:
            continue
        if schema.get("type") == "array":
            pairs += [(name, longest_value(schema["items"]))] * schema["maxItems"]
        else:
            pairs.append((name, longest_value(schema)))
    return urlencode(pairs, quote_via=quote)
