"""The same image in Lambda mode: awslambdaric polls a runtime API double in this process.

Events are shaped like API Gateway's: REST API (payload 1.0, named stage ``prod``, multi-value
headers and query parameters) and HTTP API (payload 2.0). No endpoint of the API answers with
binary bytes (downloads are presigned URLs), so binary handling is checked on the request side:
multipart uploads arrive base64-encoded, as API Gateway sends them.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import requests

from tests.containers.harness import ISSUER_KEYS, bearer
from tests.support.apigw_events import (
    header,
    http_api_event,
    json_body,
    multipart,
    rest_event,
)
from tests.support.images import assert_upright_rendition, has_gps, png, sideways_jpeg
from tests.support.tokens import TokenIssuer

pytestmark = [pytest.mark.containers, pytest.mark.xdist_group("containers")]

LAMBDA_BODY_LIMIT = 4_500_000  # MAX_REQUEST_BODY's default under AWS_LAMBDA_RUNTIME_API
# The Lambda container runs with sign-in on (as deployed): every request carries a token.
USER = f"lambda-{uuid.uuid4().hex[:8]}"
AUTH = bearer(USER)


@pytest.fixture(scope="module")
def uploaded(lambda_runtime: Any) -> dict[str, Any]:
    """One image uploaded through a REST API event (base64 multipart body, stage ``prod``)."""
    data = png()
    body, content_type = multipart(data, user_id=USER, tags='["nature", "sunset"]')
    response = lambda_runtime.invoke(
        rest_event("POST", "/images", body=body, headers={**AUTH, "Content-Type": content_type})
    )
    assert response["statusCode"] == 201, response
    return {"response": response, "image": json_body(response), "data": data}


def test_rest_upload_base64_multipart(uploaded: dict[str, Any]) -> None:
    image = uploaded["image"]
    assert image["size_bytes"] == len(uploaded["data"])
    assert image["content_type"] == "image/png"
    assert sorted(image["tags"]) == ["nature", "sunset"]
    # The stage is part of the public URL, so of the links the app builds.
    location = header(uploaded["response"], "Location")
    assert location.endswith(f"/prod/images/{image['image_id']}")


def test_repeated_query_parameters(lambda_runtime: Any, uploaded: dict[str, Any]) -> None:
    image = uploaded["image"]
    query = {"user_id": [image["user_id"]], "tags": ["nature", "sunset"]}
    for event in (
        rest_event("GET", "/images", query=query, headers=AUTH),
        http_api_event("GET", "/images", query=query, headers=AUTH),
    ):
        response = lambda_runtime.invoke(event)
        assert response["statusCode"] == 200, response
        assert [item["image_id"] for item in json_body(response)["items"]] == [image["image_id"]]


def test_http_api_get_and_download(lambda_runtime: Any, uploaded: dict[str, Any]) -> None:
    image_id = uploaded["image"]["image_id"]
    got = lambda_runtime.invoke(http_api_event("GET", f"/images/{image_id}", headers=AUTH))
    assert got["statusCode"] == 200
    assert json_body(got)["image_id"] == image_id

    link = lambda_runtime.invoke(
        http_api_event("GET", f"/images/{image_id}/download", headers=AUTH)
    )
    assert link["statusCode"] == 200
    content = requests.get(json_body(link)["download_url"], timeout=10)
    assert content.status_code == 200
    assert content.content == uploaded["data"]

    redirect = lambda_runtime.invoke(
        http_api_event(
            "GET", f"/images/{image_id}/download", query={"redirect": ["true"]}, headers=AUTH
        )
    )
    assert redirect["statusCode"] == 302
    assert requests.get(header(redirect, "Location"), timeout=10).content == uploaded["data"]


def test_thumbnail_redirects_to_an_upright_rendition_without_exif(lambda_runtime: Any) -> None:
    """The function answers 302 to a presigned URL; the bytes never pass through it."""
    body, content_type = multipart(
        sideways_jpeg(), filename="sideways.jpg", file_type="image/jpeg", user_id=USER
    )
    created = lambda_runtime.invoke(
        rest_event("POST", "/images", body=body, headers={**AUTH, "Content-Type": content_type})
    )
    assert created["statusCode"] == 201, created
    image = json_body(created)
    assert image["exif"]["taken_at"] == "2024-05-06T07:08:09+02:00"
    assert image["location"] == {"latitude": 48.86, "longitude": 2.29}  # the owner sees it
    for event in (
        rest_event(
            "GET", f"/images/{image['image_id']}/thumbnail", query={"size": ["256"]}, headers=AUTH
        ),
        http_api_event(
            "GET", f"/images/{image['image_id']}/thumbnail", query={"size": ["256"]}, headers=AUTH
        ),
    ):
        response = lambda_runtime.invoke(event)
        assert response["statusCode"] == 302, response
        fetched = requests.get(header(response, "Location"), timeout=10)
        assert fetched.status_code == 200
        assert_upright_rendition(fetched.content, (128, 256))
    # the original downloads without GPS
    link = lambda_runtime.invoke(
        http_api_event("GET", f"/images/{image['image_id']}/download", headers=AUTH)
    )
    original = requests.get(json_body(link)["download_url"], timeout=10).content
    assert not has_gps(original)


def test_docs_links_carry_the_stage(lambda_runtime: Any) -> None:
    rest = lambda_runtime.invoke(rest_event("GET", "/docs"))
    assert rest["statusCode"] == 200
    assert rest["isBase64Encoded"] is False
    assert "/prod/openapi.json" in rest["body"]

    named = lambda_runtime.invoke(http_api_event("GET", "/docs", stage="prod"))
    assert named["statusCode"] == 200
    assert "/prod/openapi.json" in named["body"]

    default = lambda_runtime.invoke(http_api_event("GET", "/docs"))
    assert default["statusCode"] == 200
    assert "/openapi.json" in default["body"]
    assert "/prod/" not in default["body"]


def test_errors_are_json(lambda_runtime: Any) -> None:
    missing = lambda_runtime.invoke(http_api_event("GET", f"/images/{'0' * 26}", headers=AUTH))
    assert missing["statusCode"] == 404
    assert json_body(missing)["code"] == 404

    body, content_type = multipart(b"not an image", user_id=USER)
    response = lambda_runtime.invoke(
        rest_event("POST", "/images", body=body, headers={**AUTH, "Content-Type": content_type})
    )
    assert response["statusCode"] == 400
    assert set(json_body(response)) >= {"code", "status", "message"}


def test_upload_over_the_lambda_payload_limit_is_413(lambda_runtime: Any) -> None:
    body, content_type = multipart(b"\0" * (LAMBDA_BODY_LIMIT + 1000), user_id=USER)
    response = lambda_runtime.invoke(
        rest_event("POST", "/images", body=body, headers={**AUTH, "Content-Type": content_type})
    )
    assert response["statusCode"] == 413, response
    error = json_body(response)
    assert error["code"] == 413
    assert str(LAMBDA_BODY_LIMIT) in error["message"].replace(",", "")
    assert "POST /uploads" in error["message"]


def test_logs_are_json_lines(lambda_runtime: Any) -> None:
    """Importing the handler module configures JSON-lines logging on stdout."""
    script = (
        "import logging, service.entrypoints.lambda_handler; "
        "logging.getLogger('service.probe').warning('probe %s', 42)"
    )
    result = lambda_runtime.container.exec(["python", "-c", script])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.decode().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]
    probe = next(record for record in records if record["logger"] == "service.probe")
    assert probe["level"] == "WARNING"
    assert probe["message"] == "probe 42"
    assert {"time", "request_id"} <= set(probe)


def test_the_service_checks_the_token_behind_the_authorizer(lambda_runtime: Any) -> None:
    """API Gateway's JWT authorizer passes its claims on; the service still checks the header."""
    claims = ISSUER_KEYS.claims(USER)
    without_header = lambda_runtime.invoke(http_api_event("GET", "/images", jwt_claims=claims))
    assert without_header["statusCode"] == 401
    assert header(without_header, "WWW-Authenticate").startswith("Bearer ")
    forged = {"Authorization": f"Bearer {TokenIssuer().token(USER)}"}
    with_forgery = lambda_runtime.invoke(
        http_api_event("GET", "/images", headers=forged, jwt_claims=claims)
    )
    assert with_forgery["statusCode"] == 401
    signed_in = lambda_runtime.invoke(
        http_api_event("GET", "/images", headers=AUTH, jwt_claims=claims)
    )
    assert signed_in["statusCode"] == 200


def test_uploads_belong_to_the_signed_in_user(lambda_runtime: Any) -> None:
    body, content_type = multipart(png(), user_id="someone-else")
    posed = lambda_runtime.invoke(
        http_api_event("POST", "/images", body=body, headers={**AUTH, "Content-Type": content_type})
    )
    assert posed["statusCode"] == 403
