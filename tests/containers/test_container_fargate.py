"""gunicorn mode on the /tmp that ECS on Fargate gives the task (terraform/modules/ecs_service).

The task definition runs the image with a read-only root and mounts a task volume (a bind
mount with no host path) on /tmp. On Fargate platform 1.4+ that volume starts empty and owned
by root with mode 755, unless the image declares ``VOLUME`` for the path: then Fargate copies
the image's directory into it, owner and mode (1777 for /tmp) included. gunicorn, running as
uid 10001, writes its worker heartbeat files to /tmp before it serves anything.

A Docker named volume stands in for it: mounted with ``nocopy`` it is an empty directory owned
by root, mode 755; without ``nocopy`` Docker copies the image's directory into it. Docker
copies whether or not the image declares the path, so the test decides as Fargate does.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import requests
from docker.types import Mount
from testcontainers.core.container import DockerContainer
from testcontainers.core.docker_client import DockerClient
from testcontainers.core.network import Network

from tests.containers.harness import (
    Emulator,
    container_logs,
    service_env,
    wait_until,
)

pytestmark = [pytest.mark.containers, pytest.mark.xdist_group("containers")]

TMP = "/tmp"  # the task volume's mount point in the task definition


@pytest.fixture
def task_volume(docker_client: DockerClient) -> Iterator[str]:
    """A new, empty Docker named volume, removed afterwards."""
    volume = docker_client.client.volumes.create(name=f"mpycloud-test-tmp-{uuid.uuid4().hex[:8]}")
    try:
        yield volume.name
    finally:
        volume.remove(force=True)


def fargate_tmp_mount(docker_client: DockerClient, image: str, volume: str) -> Mount:
    """/tmp as Fargate mounts the task volume: the image's directory copied only if declared."""
    declared = docker_client.client.images.get(image).attrs["Config"].get("Volumes") or {}
    return Mount(target=TMP, source=volume, type="volume", no_copy=TMP not in declared)


def test_an_undeclared_task_volume_is_empty_and_root_owned(
    docker_client: DockerClient, service_image: str, task_volume: str
) -> None:
    """The stand-in reproduces Fargate's empty bind mount: root-owned, 755."""
    mount = Mount(target=TMP, source=task_volume, type="volume", no_copy=True)
    output = docker_client.client.containers.run(
        service_image,
        ["stat", "-c", "%u %a", TMP],
        mounts=[mount],
        read_only=True,
        remove=True,
    )
    assert output.decode().split() == ["0", "755"]


def test_gunicorn_serves_on_the_fargate_task_volume(
    docker_client: DockerClient,
    service_image: str,
    docker_network: Network,
    aws_resources: Emulator,
    task_volume: str,
) -> None:
    container = (
        DockerContainer(service_image)
        .with_envs(**service_env(aws_resources.internal_url, aws_resources.host_url))
        .with_exposed_ports(8000)
        .with_network(docker_network)
        .with_kwargs(
            read_only=True,
            mounts=[fargate_tmp_mount(docker_client, service_image, task_volume)],
        )
    )
    with container:
        url = f"http://{container.get_container_host_ip()}:{container.get_exposed_port(8000)}"
        wait_until(
            "gunicorn /health/ready on the Fargate task volume",
            lambda: requests.get(f"{url}/health/ready", timeout=2).status_code == 200,
            timeout=60,
            logs=lambda: container_logs(container),
        )
        mode = container.exec(["stat", "-c", "%a", TMP])
        assert mode.output.decode().strip() == "1777"
