"""The image keeps botocore's models of the AWS services the service calls, and only those
(Dockerfile, AWS_MODELS): every client service/ makes must find its model there."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What boto3's credential providers may call (assumed roles, web identity, SSO), whichever
# credentials the runtime hands over.
CREDENTIAL_SERVICES = {"sts", "sso", "sso-oidc"}


def kept_models() -> set[str]:
    found = re.search(r'^ARG AWS_MODELS="([^"]*)"', (ROOT / "Dockerfile").read_text(), re.M)
    assert found, "the Dockerfile names the AWS models it keeps in ARG AWS_MODELS"
    return set(found.group(1).split())


def clients_made() -> set[str]:
    sources = "".join(path.read_text() for path in (ROOT / "service").rglob("*.py"))
    return set(re.findall(r'boto3\.client\(\s*"([a-z0-9-]+)"', sources))


def test_the_image_keeps_the_model_of_every_client_the_service_makes() -> None:
    assert clients_made() == {"s3", "dynamodb", "sqs", "cognito-idp"}
    assert kept_models() == clients_made() | CREDENTIAL_SERVICES
