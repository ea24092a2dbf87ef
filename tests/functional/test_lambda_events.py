"""The Lambda handler on real-shaped events, in-process: API Gateway REST (payload 1.0), HTTP
API (payload 2.0) and ALB, against moto's in-process S3 + DynamoDB.

The handler is built as ``service.entrypoints.lambda_handler`` builds it
(``service.entrypoints.api.stage.make_handler``
around ``create_app``); one test imports that module itself.
"""

from __future__ import annotations

import importlib
import json
import logging
import sys
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask

from service.entrypoints.api.stage import make_handler, stage_prefix
from service.entrypoints.app import create_app
from service.entrypoints.log import RequestIdFilter
from service.settings import Settings
from tests.support.apigw_events import (
    alb_event,
    body_bytes,
    header,
    http_api_event,
    json_body,
    multipart,
    rest_event,
)
from tests.support.images import png

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
EVENT_KINDS = ("rest", "http_api", "alb")
BUILDERS: dict[str, Callable[..., dict[str, Any]]] = {
    "rest": rest_event,
    "http_api": http_api_event,
    "alb": alb_event,
}
PNG_BYTES = png()


@pytest.fixture
def flask_app(aws: Settings) -> Flask:
    return create_app(aws)


@pytest.fixture
def handler(flask_app: Flask) -> Handler:
    return make_handler(flask_app)


def upload_event(kind: str, user_id: str = "user123", **extra: str) -> dict[str, Any]:
    body, content_type = multipart(
        PNG_BYTES, user_id=user_id, description="My photo", tags='["nature", "sunset"]', **extra
    )
    return BUILDERS[kind]("POST", "/images", body=body, headers={"Content-Type": content_type})


@pytest.mark.parametrize("kind", EVENT_KINDS)
def test_base64_multipart_upload_then_get(handler: Handler, kind: str) -> None:
    created = handler(upload_event(kind, camera="X100"), None)
    assert created["statusCode"] == 201, created
    image = json_body(created)
    assert image["size_bytes"] == len(PNG_BYTES)
    assert image["content_type"] == "image/png"
    assert sorted(image["tags"]) == ["nature", "sunset"]
    assert image["metadata"].get("camera") == "X100"
    prefix = "/prod" if kind == "rest" else ""
    assert header(created, "Location") == f"{prefix}/images/{image['image_id']}"

    got = handler(BUILDERS[kind]("GET", f"/images/{image['image_id']}"), None)
    assert got["statusCode"] == 200
    assert json_body(got) == image


@pytest.mark.parametrize("kind", EVENT_KINDS)
def test_repeated_query_parameters(handler: Handler, kind: str) -> None:
    both = json_body(handler(upload_event(kind, user_id="tagger"), None))["image_id"]
    body, content_type = multipart(PNG_BYTES, user_id="tagger", tags='["nature"]')
    one = handler(
        BUILDERS[kind]("POST", "/images", body=body, headers={"Content-Type": content_type}),
        None,
    )
    only_nature = json_body(one)["image_id"]

    def listed(query: dict[str, list[str]]) -> set[str]:
        response = handler(BUILDERS[kind]("GET", "/images", query=query), None)
        assert response["statusCode"] == 200, response
        return {item["image_id"] for item in json_body(response)["items"]}

    assert listed({"user_id": ["tagger"], "tags": ["nature"]}) == {both, only_nature}
    # Both values reach the app (a dropped value would widen the result to both images).
    assert listed({"user_id": ["tagger"], "tags": ["nature", "sunset"]}) == {both}


def test_alb_without_multi_value_headers(handler: Handler) -> None:
    created = handler(alb_event("POST", "/images", multi_value=False), None)
    assert created["statusCode"] == 422  # no body: the form lacks user_id and image
    assert "headers" in created
    assert "multiValueHeaders" not in created

    body, content_type = multipart(PNG_BYTES, user_id="alb@example.com")
    event = alb_event(
        "POST", "/images", body=body, headers={"Content-Type": content_type}, multi_value=False
    )
    assert handler(event, None)["statusCode"] == 201
    listed = handler(alb_event("GET", "/images", query={"user_id": ["alb@example.com"]}), None)
    assert [item["user_id"] for item in json_body(listed)["items"]] == ["alb@example.com"]


@pytest.mark.parametrize("kind", EVENT_KINDS)
def test_redirect_and_text_responses(handler: Handler, kind: str) -> None:
    """A thumbnail is a redirect to S3: its bytes never pass through the function."""
    image_id = json_body(handler(upload_event(kind), None))["image_id"]
    unknown_size = handler(
        BUILDERS[kind]("GET", f"/images/{image_id}/thumbnail", query={"size": ["64"]}), None
    )
    assert unknown_size["statusCode"] == 422  # 64 is not among RENDITION_SIZES (256, 1024)
    redirect = handler(
        BUILDERS[kind]("GET", f"/images/{image_id}/thumbnail", query={"size": ["256"]}), None
    )
    assert redirect["statusCode"] == 302
    assert f"renditions/{image_id}/256.jpeg" in json.dumps(redirect)

    health = handler(BUILDERS[kind]("GET", "/health"), None)
    assert json_body(health) == {"status": "ok"}
    spec = handler(BUILDERS[kind]("GET", "/openapi.json"), None)
    assert "/images" in json_body(spec)["paths"]


@pytest.mark.parametrize(
    ("event", "prefix"),
    [
        (rest_event("GET", "/docs", stage="prod"), "/prod"),
        (rest_event("GET", "/docs", stage="prod", called_path="/v1/docs"), "/v1"),
        (rest_event("GET", "/docs", stage="prod", called_path="/docs"), ""),
        (rest_event("GET", "/docs", stage="$default", called_path="/docs"), ""),
        (http_api_event("GET", "/docs"), ""),
        (http_api_event("GET", "/docs", stage="prod"), "/prod"),
        (alb_event("GET", "/docs"), ""),
    ],
    ids=[
        "rest-stage",
        "rest-custom-domain-base-path",
        "rest-custom-domain",
        "rest-default-stage",
        "http-api-default",
        "http-api-named-stage",
        "alb",
    ],
)
def test_generated_links_carry_the_stage(
    handler: Handler, event: dict[str, Any], prefix: str
) -> None:
    docs = handler(event, None)
    assert docs["statusCode"] == 200, docs
    assert docs["isBase64Encoded"] is False
    assert f'"{prefix}/openapi.json"' in docs["body"] or f"'{prefix}/openapi.json'" in docs["body"]


def test_stage_prefix_without_apig_context() -> None:
    assert stage_prefix({}, "/images") == ""
    assert stage_prefix({"requestContext": None}, "/images") == ""
    assert stage_prefix({"requestContext": {"stage": "prod"}}, "/images") == "/prod"
    named = {"version": "2.0", "requestContext": {"stage": "prod"}}
    assert stage_prefix(named, "/images") == ""  # a route that does not carry the stage


def test_errors_are_json(handler: Handler) -> None:
    missing = handler(http_api_event("GET", f"/images/{'0' * 26}"), None)
    assert missing["statusCode"] == 404
    assert json_body(missing)["code"] == 404

    body, content_type = multipart(b"not an image at all", user_id="user123")
    bad = handler(
        rest_event("POST", "/images", body=body, headers={"Content-Type": content_type}), None
    )
    assert 400 <= bad["statusCode"] < 500
    assert set(json_body(bad)) >= {"code", "status", "message"}


def test_upload_over_the_lambda_limit_is_413_naming_the_limit(aws: Settings) -> None:
    lambda_settings = Settings.from_env({"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"})
    assert lambda_settings.max_request_body == 4_500_000
    settings = replace(aws, max_file_size=10 * 1024 * 1024, max_request_body=4_500_000)
    handler = make_handler(create_app(settings))

    body, content_type = multipart(b"\0" * 4_600_000, user_id="user123")
    response = handler(
        rest_event("POST", "/images", body=body, headers={"Content-Type": content_type}), None
    )
    assert response["statusCode"] == 413
    error = json_body(response)
    assert error["code"] == 413
    assert "4500000" in error["message"].replace(",", "")
    assert "POST /uploads" in error["message"]


@pytest.mark.usefixtures("restore_logging")
def test_lambda_handler_module(
    aws: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``service.entrypoints.lambda_handler`` wires settings, JSON logging and the app from
    the env."""
    monkeypatch.setenv("S3_BUCKET_NAME", aws.s3_bucket_name)
    monkeypatch.setenv("DYNAMODB_TABLE_NAME", aws.dynamodb_table_name)
    assert aws.cursor_secret is not None
    monkeypatch.setenv("CURSOR_SECRET", aws.cursor_secret)
    monkeypatch.setenv("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")
    monkeypatch.setenv("AUTH_MODE", "none")
    monkeypatch.delitem(sys.modules, "service.entrypoints.lambda_handler", raising=False)
    module = importlib.import_module("service.entrypoints.lambda_handler")
    monkeypatch.delitem(sys.modules, "service.entrypoints.lambda_handler")

    assert module.settings.max_request_body == 4_500_000
    created = module.handler(upload_event("rest"), None)
    assert created["statusCode"] == 201, created
    ready = module.handler(http_api_event("GET", "/health/ready"), None)
    assert ready["statusCode"] == 200
    logging.getLogger("service.probe").warning("probe")
    assert '"logger": "service.probe"' in capsys.readouterr().out
    assert body_bytes(ready)


def ids_of(record: logging.LogRecord) -> tuple[str, str]:
    """The ids the service's filter stamped on a log record."""
    return record.__dict__["request_id"], record.__dict__["client_request_id"]


class LambdaContext:
    aws_request_id = "lambda-invocation-id"


@pytest.fixture
def logged(flask_app: Flask, caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Records logged while serving requests, stamped by the service's own id filter."""

    @flask_app.after_request
    def _probe(response: Any) -> Any:
        logging.getLogger("service.probe").info("served")
        return response

    caplog.handler.addFilter(RequestIdFilter())
    caplog.set_level(logging.INFO, logger="service.probe")
    return caplog


@pytest.mark.parametrize("kind", ["rest", "http_api"])
def test_logs_carry_api_gateways_request_id_and_the_clients_apart(
    flask_app: Flask, logged: pytest.LogCaptureFixture, kind: str
) -> None:
    event = BUILDERS[kind]("GET", "/health", headers={"X-Request-Id": "client-chosen-id"})

    response = make_handler(flask_app)(event, LambdaContext())

    gateway_id = event["requestContext"]["requestId"]
    assert header(response, "X-Request-Id") == gateway_id
    (record,) = logged.records
    assert ids_of(record) == (gateway_id, "client-chosen-id")


def test_without_api_gateway_the_lambda_request_id_is_logged(
    flask_app: Flask, logged: pytest.LogCaptureFixture
) -> None:
    response = make_handler(flask_app)(alb_event("GET", "/health"), LambdaContext())

    assert header(response, "X-Request-Id") == "lambda-invocation-id"
    (record,) = logged.records
    assert ids_of(record) == ("lambda-invocation-id", "-")
