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
