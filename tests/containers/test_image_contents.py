"""What the production image holds: the service, and none of the dev tools."""

from __future__ import annotations

import pytest
from testcontainers.core.docker_client import DockerClient

pytestmark = [pytest.mark.containers, pytest.mark.xdist_group("containers")]

# Run as the image runs a command (`docker run IMAGE python -c ...`): its own interpreter and
# PYTHONPATH, no AWS needed.
PROBE = """
import importlib.util, pathlib, sys
roots = ('/app', '/opt', '/usr/local/lib')
found = [str(p) for r in roots for p in pathlib.Path(r).rglob('devtools')]
print('devtools importable:', importlib.util.find_spec('devtools') is not None)
print('devtools paths:', found)
print('service importable:', importlib.util.find_spec('service.entrypoints.app') is not None)
"""


def test_the_image_holds_the_service_and_no_dev_tools(
    docker_client: DockerClient, service_image: str
) -> None:
    output = docker_client.client.containers.run(
        service_image, ["python", "-c", PROBE], remove=True, stdout=True, stderr=True
    ).decode()

    assert "service importable: True" in output
    assert "devtools importable: False" in output
    assert "devtools paths: []" in output


# Every client the service makes, created and asked for an operation's model: botocore loads
# the service's model then, offline.
CLIENTS = """
import pathlib, boto3, botocore
for name in ("s3", "dynamodb", "sqs", "cognito-idp", "sts"):
    client = boto3.client(name, region_name="us-east-1")
    print(name, len(client.meta.service_model.operation_names) > 0)
data = pathlib.Path(botocore.__file__).parent / "data"
print("models:", sorted(p.name for p in data.iterdir() if p.is_dir()))
"""


def test_the_image_keeps_botocores_models_of_the_services_it_calls_only(
    docker_client: DockerClient, service_image: str
) -> None:
    output = docker_client.client.containers.run(
        service_image, ["python", "-c", CLIENTS], remove=True, stdout=True, stderr=True
    ).decode()

    for name in ("s3", "dynamodb", "sqs", "cognito-idp", "sts"):
        assert f"{name} True" in output, output
    expected = ["cognito-idp", "dynamodb", "s3", "sqs", "sso", "sso-oidc", "sts"]
    assert f"models: {expected}" in output, output
