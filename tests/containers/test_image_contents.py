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
