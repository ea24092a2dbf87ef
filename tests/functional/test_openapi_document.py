"""The OpenAPI document states the input rules, read from the constants of rules.py.

Patterns are ECMA 262 as JSON Schema reads them (checked here with jsonschema_rs, the validator
schemathesis uses); the longest request line the document allows fits gunicorn's limit.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from typing import Any

import pytest

from service.domain import rules
from service.domain.model import ACCEPTED_CONTENT_TYPES
from service.entrypoints.app import create_app
from tests.support.aws import moto_environment, small_settings
from tests.support.openapi_limits import longest_listing_query, parameters, validator


@pytest.fixture(scope="module")
def spec() -> Iterator[dict[str, Any]]:
    settings = small_settings(s3_bucket_name="document-bucket")
    with moto_environment(settings):
        yield create_app(settings).test_client().get("/openapi.json").get_json()


def patterns(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                yield value
            else:
                yield from patterns(value)
    elif isinstance(node, list):
        for item in node:
            yield from patterns(item)


def test_every_pattern_is_a_valid_ecma_262_regular_expression(spec: dict[str, Any]) -> None:
    found = set(patterns(spec))

    for pattern in found:
        validator({"type": "string", "pattern": pattern})  # raises on an invalid pattern
    assert len(found) >= 4  # user id, tag, metadata key, cursor


def test_the_tag_pattern_of_the_document_and_of_rules_agree_on_every_character(
    spec: dict[str, Any],
) -> None:
    item = spec["components"]["schemas"]["ImageChanges"]["properties"]["tags"]["items"]
    document = validator({"type": "string", "pattern": item["pattern"]})
    sent = rules.TAG_AS_SENT_PATTERN

    for code in [*range(0xD800), *range(0xE000, 0x10000), 0x20000, 0x1D400, 0x1F600]:
        char = chr(code)
        if unicodedata.category(char) == "Cn":
            continue  # not assigned in this Python's Unicode (a letter to a newer validator)
        for text in (char, "a" + char):
            assert document.is_valid(text) == bool(sent.fullmatch(text)), hex(code)


def test_the_listing_parameters_state_the_rules(spec: dict[str, Any]) -> None:
    query = parameters(spec, "/images")

    assert query["user_id"]["maxLength"] == rules.MAX_USER_ID_LENGTH
    assert query["user_id"]["minLength"] == 1
    assert query["user_id"]["pattern"] == f"^{rules.USER_ID_PATTERN.pattern}$"
    assert query["tags"]["maxItems"] == rules.MAX_FILTER_TAGS
    assert query["tags"]["items"]["maxLength"] == rules.MAX_TAG_LENGTH
    assert query["limit"] == {
        "type": "integer",
        "default": rules.DEFAULT_PAGE_SIZE,
        "minimum": 1,
        "maximum": rules.MAX_PAGE_SIZE,
    }
    for name in ("date_from", "date_to"):
        assert query[name]["anyOf"] == [{"format": "date-time"}, {"format": "date"}]
    assert set(query["content_type"]["enum"]) == {
        *ACCEPTED_CONTENT_TYPES,
        *rules.CONTENT_TYPE_ALIASES,
    }
    assert query["cursor"]["maxLength"] == rules.MAX_CURSOR_LENGTH


@pytest.mark.parametrize("path", ["/images", "/images/{image_id}/download"])
def test_every_string_query_parameter_has_a_max_length(spec: dict[str, Any], path: str) -> None:
    for name, schema in parameters(spec, path).items():
        value = schema.get("items", schema)
        if value.get("type") == "string" and "enum" not in value:
            assert "maxLength" in value, name


def test_the_bodies_state_the_rules(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    upload, changes = schemas["Upload"], schemas["ImageChanges"]

    for body in (upload, changes):
        fields = body["properties"]
        assert fields["description"]["maxLength"] == rules.MAX_DESCRIPTION_LENGTH
        assert fields["tags"]["maxItems"] == rules.MAX_TAGS
        assert fields["tags"]["items"]["maxLength"] == rules.MAX_TAG_LENGTH
        metadata = fields["metadata"]
        assert metadata["type"] == "object"
        assert metadata["maxProperties"] == rules.MAX_METADATA_KEYS
        assert metadata["propertyNames"]["pattern"] == f"^{rules.METADATA_KEY_PATTERN.pattern}$"
        values = metadata["additionalProperties"]
        assert set(values["type"]) == {"string", "number", "boolean", "null"}
        assert values["maxLength"] == rules.MAX_METADATA_VALUE_LENGTH
    assert upload["properties"]["user_id"]["maxLength"] == rules.MAX_USER_ID_LENGTH
    assert upload["additionalProperties"]["maxLength"] == rules.MAX_METADATA_VALUE_LENGTH
    assert changes["additionalProperties"] is False
    assert changes["minProperties"] == 1
    assert upload["properties"]["tags"]["example"] == ["nature", "sunset"]  # an array, as typed


def test_the_longest_request_line_the_document_allows_fits_gunicorn(
    spec: dict[str, Any],
) -> None:
    # ids takes no other filter (only limit): the longest listing is one kind or the other.
    filters = set(parameters(spec, "/images")) - {"ids"}
    for names in (filters, {"ids", "limit"}):
        line = f"GET /images?{longest_listing_query(spec, names)} HTTP/1.1"

        assert len(line.encode()) <= rules.MAX_REQUEST_LINE, sorted(names)


def test_the_document_asks_for_a_token_only_when_sign_in_is_on(spec: dict[str, Any]) -> None:
    # The spec fixture's app runs with AUTH_MODE=none, as make run's examples do.
    assert "security" not in spec
    assert "securitySchemes" not in spec.get("components", {})


def test_the_document_states_this_deployments_rendition_sizes_and_file_size_limit() -> None:
    settings = small_settings(rendition_sizes=(128, 512), max_file_size=1000)
    with moto_environment(settings):
        document = create_app(settings).test_client().get("/openapi.json").get_json()

    size = parameters(document, "/images/{image_id}/thumbnail")["size"]
    assert size["enum"] == [128, 512]
    assert document["components"]["schemas"]["NewUpload"]["properties"]["size"]["maximum"] == 1000
