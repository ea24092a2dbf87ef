"""What a first deploy in a fresh account meets that a plan does not show: URLs no certificate
covers, settings AWS refuses together, credentials that end before what they signed."""

from __future__ import annotations

import re
from typing import Any


def ref(expression: Any) -> str:
    """``${var.x}`` -> ``var.x``."""
    text = str(expression)
    match = re.fullmatch(r"\$\{(.*)\}", text, flags=re.DOTALL)
    return match.group(1).strip() if match else text


def conditions(variable: dict[str, Any]) -> list[str]:
    return [ref(validation["condition"]) for validation in variable.get("validation", [])]


# --- ECS: the URL clients use -------------------------------------------------------------


def test_ecs_url_is_the_public_url_whenever_there_is_a_certificate(terraform: Any) -> None:
    """With a certificate, https://<name>.elb.amazonaws.com fails TLS: no certificate can
    cover the load balancer's own name. The smoke test and clients use the domain."""
    root = terraform.root
    output = ref(root.outputs["ecs_url"]["value"])
    assert output == (
        "var.enable_ecs ? coalesce(var.ecs_public_url, one(module.ecs_service[*].url)) : null"
    )
    variable = root.variables["ecs_public_url"]
    assert variable["default"] is None
    found = conditions(variable)
    # Required with a certificate: only then is the load balancer's own URL unusable.
    assert "!var.enable_ecs || var.alb_certificate_arn == null || var.ecs_public_url != null" in (
        found
    )
    [pattern] = [
        match
        for condition in found
        for match in re.findall(r'can\(regex\("([^"]+)", var\.ecs_public_url\)\)', condition)
    ]
    assert re.match(pattern, "https://photos.example.com")
    for refused in ("http://photos.example.com", "https://photos.example.com/", "photos"):
        assert not re.match(pattern, refused), refused
    # The module's URL is the load balancer's name: with a certificate it is not the answer.
    ecs = terraform.modules["ecs_service"]
    assert "aws_lb.service.dns_name" in ecs.outputs["url"]["value"]


# --- Cognito: MFA off ---------------------------------------------------------------------


def test_the_totp_factor_is_configured_only_when_mfa_is_not_off(terraform: Any) -> None:
    """Cognito refuses mfa_configuration OFF together with an enabled MFA factor."""
    auth = terraform.modules["auth"]
    pool = auth.resource("aws_cognito_user_pool", "users")
    assert ref(pool["mfa_configuration"]) == "var.mfa_configuration"
    assert "software_token_mfa_configuration" not in pool, "a TOTP block whatever the setting"
    [block] = [
        dynamic["software_token_mfa_configuration"]
        for dynamic in pool.get("dynamic", [])
        if "software_token_mfa_configuration" in dynamic
    ]
    assert ref(block["for_each"]) == 'var.mfa_configuration == "OFF" ? [] : [true]'
    [content] = block["content"]
    assert content["enabled"] is True
    [validation] = auth.variables["mfa_configuration"]["validation"]
    assert (
        ref(validation["condition"]) == 'contains(["OFF", "OPTIONAL", "ON"], var.mfa_configuration)'
    )


# --- Presigned URLs and the credentials that sign them -------------------------------------

# A presigned URL stops working when the session of the credentials that signed it ends. ECS
# task role credentials last 6 hours at most; no role session lasts longer than 12.
ECS_TASK_CREDENTIALS_SECONDS = 21_600
ROLE_SESSION_MAX_SECONDS = 43_200


def test_download_url_ttl_is_capped_by_the_credentials_of_each_mode(terraform: Any) -> None:
    variable = terraform.root.variables["download_url_ttl"]
    bounds = [
        (int(with_ecs), int(without))
        for condition in conditions(variable)
        for with_ecs, without in re.findall(
            r"var\.download_url_ttl <= \(var\.enable_ecs \? (\d+) : (\d+)\)", condition
        )
    ]
    assert len(bounds) == 1, "download_url_ttl needs an upper bound that depends on the mode"
    [(with_ecs, without)] = bounds
    assert with_ecs <= ECS_TASK_CREDENTIALS_SECONDS
    assert without <= ROLE_SESSION_MAX_SECONDS
    assert terraform.root.variables["download_url_ttl"]["default"] <= with_ecs


# --- Noncurrent versions of uploads in progress ---------------------------------------------


def test_noncurrent_incoming_versions_expire_within_a_day(terraform: Any) -> None:
    """Versioning keeps a noncurrent copy of every upload part moved or deleted under incoming/;
    the bucket-wide rule would keep it for noncurrent_version_expiration_days."""
    storage = terraform.modules["storage"]
    policy = storage.data[("aws_iam_policy_document", "service_data_access")]
    [incoming] = [s for s in policy["statement"] if s["sid"] == "IncomingUploads"]
    [resource] = incoming["resources"]
    prefix = resource.removeprefix("${aws_s3_bucket.images.arn}/").removesuffix("*")
    assert prefix == "incoming/"
    lifecycle = storage.resource("aws_s3_bucket_lifecycle_configuration", "images")
    rules = [
        rule
        for rule in lifecycle["rule"]
        if any(f.get("prefix") == prefix for f in rule.get("filter", []))
    ]
    assert len(rules) == 1
    [expiration] = rules[0]["noncurrent_version_expiration"]
    assert expiration["noncurrent_days"] == 1


# --- HTTP API: HEAD, and CORS preflights from the origins a deployment allows -------------


def route_lists(lambda_api: Any) -> dict[str, list[str]]:
    """Each route resource -> its route keys (for_each over a local list, or one key)."""
    found = {}
    for name, body in lambda_api.of_type("aws_apigatewayv2_route").items():
        if "for_each" in body:
            local = re.fullmatch(r"toset\(local\.(\w+)\)", ref(body["for_each"]))
            assert local, name
            found[name] = list(lambda_api.locals[local[1]])
        else:
            found[name] = [body["route_key"]]
    return found


def test_head_has_the_authorization_of_get(terraform: Any) -> None:
    """A HEAD without a route of its own falls to $default, which asks for a token."""
    lambda_api = terraform.modules["lambda_api"]
    for name, keys in route_lists(lambda_api).items():
        for key in keys:
            if key.startswith("GET "):
                assert "HEAD " + key.removeprefix("GET ") in keys, (name, key)


def test_cors_preflights_get_an_answer_without_a_token(terraform: Any) -> None:
    """A browser asks OPTIONS, without the Authorization header, before a cross-origin call
    that sends one; behind $default's authorizer that preflight gets a 401."""
    lambda_api = terraform.modules["lambda_api"]
    routes = route_lists(lambda_api)
    preflight = [name for name, keys in routes.items() if "OPTIONS /{proxy+}" in keys]
    assert len(preflight) == 1
    body = lambda_api.resource("aws_apigatewayv2_route", preflight[0])
    assert body.get("authorization_type", "NONE") == "NONE"
    assert "authorizer_id" not in body
    # API Gateway answers the preflights itself, for the allowed origins only.
    api = lambda_api.resource("aws_apigatewayv2_api", "http")
    [cors] = [d["cors_configuration"] for d in api.get("dynamic", []) if "cors_configuration" in d]
    assert ref(cors["for_each"]) == "length(var.cors_allow_origins) > 0 ? [true] : []"
    [content] = cors["content"]
    assert ref(content["allow_origins"]) == "var.cors_allow_origins"
    methods = {key.split(" ", 1)[0] for keys in routes.values() for key in keys} - {"$default"}
    assert set(content["allow_methods"]) >= methods - {"OPTIONS"} | {"PUT", "PATCH", "DELETE"}
    assert {"authorization", "content-type"} <= {h.lower() for h in content["allow_headers"]}
    # Tokens travel in a header, never in a cookie of another origin.
    assert content.get("allow_credentials", False) is False
    # The origins are the deployment's: its gallery origins, never "*".
    call = terraform.root.modules["lambda_api"]
    assert ref(call["cors_allow_origins"]) == "var.gallery_origins"
    variable = lambda_api.variables["cors_allow_origins"]
    assert variable["default"] == []
    assert any('"*"' in ref(v["condition"]) for v in variable["validation"])
