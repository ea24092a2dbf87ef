"""Lambda events shaped like the real ones, and helpers to read the handler's answers.

* ``rest_event``: API Gateway REST API, proxy integration (payload format 1.0), with
  ``multiValueHeaders`` / ``multiValueQueryStringParameters`` and a named stage.
* ``http_api_event``: API Gateway HTTP API (payload format 2.0); a named stage stays in
  ``rawPath``.
* ``alb_event``: Application Load Balancer target group, with or without multi-value headers.

Bodies are always sent base64-encoded, as API Gateway does for binary media types (a multipart
upload is one) and ALB does for anything that is not text.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any
from urllib.parse import quote, urlencode

import requests

API_HOST = "abc123.execute-api.us-east-1.amazonaws.com"
ALB_TARGET_GROUP = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/mpycloud/1a2b"


def multipart(
    data: bytes, filename: str = "photo.png", file_type: str = "image/png", **fields: str
) -> tuple[bytes, str]:
    """A multipart/form-data upload body (``image`` file + text fields) and its Content-Type."""
    prepared = requests.Request(
        "POST",
        "http://lambda/images",
        files={"image": (filename, data, file_type)},
        data=fields,
    ).prepare()
    assert isinstance(prepared.body, bytes)
    return prepared.body, prepared.headers["Content-Type"]


def _body(body: bytes | None) -> dict[str, Any]:
    return {
        "body": base64.b64encode(body).decode() if body is not None else None,
        "isBase64Encoded": body is not None,
    }


def rest_event(
    method: str,
    path: str,
    *,
    query: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    stage: str = "prod",
    called_path: str | None = None,
) -> dict[str, Any]:
    """REST API event. ``called_path`` is ``requestContext.path`` (default ``/<stage><path>``,
    as on the execute-api domain; a custom domain puts its base path there instead)."""
    all_headers = {"Host": API_HOST, "X-Forwarded-Proto": "https", "X-Forwarded-Port": "443"}
    all_headers |= {"User-Agent": "pytest", **(headers or {})}
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {name: [value] for name, value in all_headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} if query else None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourceId": "x1y2z3",
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": called_path if called_path is not None else f"/{stage}{path}",
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": "abc123",
            "domainName": API_HOST,
            "apiId": "abc123",
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "pytest"},
        },
        **_body(body),
    }


def http_api_event(
    method: str,
    path: str,
    *,
    query: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    stage: str = "$default",
    jwt_claims: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """HTTP API event; repeated query parameters are comma-joined in queryStringParameters.
    ``jwt_claims``: what a JWT authorizer passes on (``requestContext.authorizer.jwt``)."""
    raw_path = path if stage == "$default" else f"/{stage}{path}"
    now = time.time()
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": urlencode(query or {}, doseq=True),
        "cookies": ["theme=dark"],
        "headers": {
            "host": API_HOST,
            "x-forwarded-proto": "https",
            "x-forwarded-port": "443",
            "user-agent": "pytest",
            **{name.lower(): value for name, value in (headers or {}).items()},
        },
        "queryStringParameters": {k: ",".join(v) for k, v in query.items()} if query else None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": API_HOST,
            "domainPrefix": "abc123",
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "pytest",
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": stage,
            **(
                {"authorizer": {"jwt": {"claims": jwt_claims, "scopes": None}}}
                if jwt_claims
                else {}
            ),
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        **_body(body),
    }


def alb_event(
    method: str,
    path: str,
    *,
    query: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    multi_value: bool = True,
) -> dict[str, Any]:
    """ALB event; query values arrive percent-encoded, as the client sent them."""
    all_headers = {"host": "mpycloud-123.us-east-1.elb.amazonaws.com", "x-forwarded-proto": "http"}
    all_headers |= {"x-forwarded-port": "80", **{k.lower(): v for k, v in (headers or {}).items()}}
    encoded = {quote(k): [quote(v) for v in values] for k, values in (query or {}).items()}
    event: dict[str, Any] = {
        "requestContext": {"elb": {"targetGroupArn": ALB_TARGET_GROUP}},
        "httpMethod": method,
        "path": path,
        **_body(body),
    }
    if multi_value:
        event["multiValueQueryStringParameters"] = encoded
        event["multiValueHeaders"] = {name: [value] for name, value in all_headers.items()}
    else:
        event["queryStringParameters"] = {k: v[-1] for k, v in encoded.items()}
        event["headers"] = all_headers
    return event


def json_body(response: dict[str, Any]) -> Any:
    assert response["isBase64Encoded"] is False, response
    return json.loads(response["body"])


def body_bytes(response: dict[str, Any]) -> bytes:
    if response["isBase64Encoded"]:
        return base64.b64decode(response["body"])
    return str(response["body"]).encode()


def header(response: dict[str, Any], name: str) -> str:
    """A response header, from ``headers`` or (multi-value events) ``multiValueHeaders``."""
    if "multiValueHeaders" in response:
        values = {k.lower(): v for k, v in response["multiValueHeaders"].items()}
        return str(values[name.lower()][-1])
    return str({k.lower(): v for k, v in response["headers"].items()}[name.lower()])
