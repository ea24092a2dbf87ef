"""Session fixtures of the container tests: one image build, one AWS emulator, one service.

The image is built from the project's Dockerfile with testcontainers (docker-py, Docker's
classic builder), then run these ways on one Docker network with the emulator:

* ``python -m service create-resources`` (the compose ``init`` step): bucket, table, and the
  jobs queue with its dead letters,
* gunicorn mode, driven over HTTP from here (``service_url``),
* the worker, ``python -m service worker``, taking the jobs of the API containers
  (``jobs_worker``),
* Lambda mode, fed API Gateway events through a test double of the Lambda Runtime API that
  runs in this process (``lambda_runtime``),
* a second API container whose jobs go to a queue of its own, which no worker serves until a
  test starts one (``jobs_stack``): the worker tests kill, stop and start workers there, and
  the Lambda worker (``lambda_worker``) is fed the SQS events of its jobs.

Every container runs with a read-only root file system and a tmpfs on /tmp, as in production
(test_container_fargate.py mounts /tmp as ECS on Fargate does instead).

Session fixtures are per process, and pytest-xdist runs one process per worker: every module
here is in the ``xdist_group`` "containers", so that one worker builds the image and starts
the emulator and the service containers, once.

Environment:

* ``AWS_EMULATOR=localstack|moto`` picks the emulator; by default LocalStack 4.14.0 when its
  image is present or can be pulled, else moto's server.
* ``DOCKER_BUILD_NETWORK`` (default ``host``): network of the ``pip install`` build step.
* ``REQUIRE_CONTAINERS=1``: no Docker engine is a failure, not a skip.
"""

from __future__ import annotations

import gc
import os
import time
import uuid
import warnings
from collections.abc import Iterator

import pytest
import requests
from testcontainers.core.config import testcontainers_config
from testcontainers.core.container import DockerContainer
from testcontainers.core.docker_client import DockerClient
from testcontainers.core.image import DockerImage
from testcontainers.core.network import Network

from tests.containers.harness import (
    EMULATOR_ALIAS,
    IMAGE_TAG,
    ISSUER_KEYS,
    LOCALSTACK_IMAGE,
    MOTO_IMAGE,
    PROJECT_ROOT,
    Emulator,
    JobsStack,
    container_logs,
    read_only,
    run_to_end,
    service_env,
    signed_in_env,
    wait_for_worker,
    wait_until,
    worker_container,
)
from tests.support.lambda_runtime import LambdaRuntimeDouble
from tests.support.ports import free_port
from tests.support.tokens import served_jwks

# --- Docker engine -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def docker_client() -> Iterator[DockerClient]:
    try:
        client = DockerClient()
        client.client.ping()
    except Exception as error:
        reason = f"no Docker engine reachable ({error})"
    else:
        _reaper_or_none(client)
        yield client
        client.client.close()
        return
    # docker-py leaves the socket of the failed connection open: finalize it here, quietly,
    # rather than as an unraisable ResourceWarning at the end of the session.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
    if os.environ.get("REQUIRE_CONTAINERS") == "1":
        pytest.fail(f"REQUIRE_CONTAINERS=1 but {reason}")
    pytest.skip(reason)


def _reaper_or_none(client: DockerClient) -> None:
    """Use testcontainers' Ryuk reaper when its image can be had; otherwise go without it.

    The fixtures stop every container they start; Ryuk only matters when the test process is
    killed. Without a reachable registry its image cannot be pulled, which would make every
    container test error rather than run.
    """
    if testcontainers_config.ryuk_disabled:
        return
    try:
        client.client.images.get(testcontainers_config.ryuk_image)
    except Exception:
        try:
            client.client.images.pull(testcontainers_config.ryuk_image)
        except Exception as error:
            print(f"\nno {testcontainers_config.ryuk_image} ({error}); running without Ryuk")
            testcontainers_config.ryuk_disabled = True


@pytest.fixture(scope="session")
def service_image(docker_client: DockerClient) -> str:
    """The project's image, built once per session (kept afterwards, so reruns hit the cache)."""
    started = time.monotonic()
    image = DockerImage(
        path=PROJECT_ROOT,
        tag=IMAGE_TAG,
        clean_up=False,
        # Passed through to docker-py's images.build().
        network_mode=os.environ.get("DOCKER_BUILD_NETWORK", "host"),
        forcerm=True,
    )
    image.build()
    image.get_docker_client().client.close()
    print(f"\nbuilt {IMAGE_TAG} in {time.monotonic() - started:.1f}s")
    return IMAGE_TAG


@pytest.fixture(scope="session")
def docker_network(docker_client: DockerClient) -> Iterator[Network]:
    with Network() as network:
        yield network


# --- AWS emulator ----------------------------------------------------------------------------


def _choose_emulator(docker_client: DockerClient) -> str:
    forced = os.environ.get("AWS_EMULATOR", "").strip().lower()
    if forced:
        if forced not in ("localstack", "moto"):
            pytest.fail(f"AWS_EMULATOR must be 'localstack' or 'moto', got {forced!r}")
        return forced
    images = docker_client.client.images
    if images.list(name=LOCALSTACK_IMAGE):
        return "localstack"
    try:
        images.pull(LOCALSTACK_IMAGE)
    except Exception:  # no registry, no such tag, rate limit...: moto's server instead
        return "moto"
    return "localstack"


@pytest.fixture(scope="session")
def aws_emulator(docker_client: DockerClient, docker_network: Network) -> Iterator[Emulator]:
    kind = _choose_emulator(docker_client)
    if kind == "localstack":
        port = 4566
        # Presigned URLs' signatures checked as S3 checks them (LocalStack skips it by default):
        # their expiry, and the headers signed into them, such as a part's Content-Length.
        container = (
            DockerContainer(LOCALSTACK_IMAGE)
            .with_env("SERVICES", "s3,dynamodb,sqs")
            .with_env("S3_SKIP_SIGNATURE_VALIDATION", "0")
        )
        if os.environ.get("LOCALSTACK_AUTH_TOKEN"):
            container.with_env("LOCALSTACK_AUTH_TOKEN", os.environ["LOCALSTACK_AUTH_TOKEN"])
        ready_path = "/_localstack/health"
    else:
        port = 5000
        container = DockerContainer(MOTO_IMAGE).with_kwargs(
            entrypoint=["moto_server", "-H", "0.0.0.0", "-p", str(port)]  # noqa: S104
        )
        ready_path = "/moto-api/"
    container.with_exposed_ports(port).with_network(docker_network).with_network_aliases(
        EMULATOR_ALIAS
    )
    with container:
        host_url = f"http://{container.get_container_host_ip()}:{container.get_exposed_port(port)}"
        wait_until(
            f"{kind} emulator",
            lambda: requests.get(host_url + ready_path, timeout=2).ok,
            timeout=120,
            logs=lambda: container_logs(container),
        )
        yield Emulator(kind, f"http://{EMULATOR_ALIAS}:{port}", host_url)


@pytest.fixture(scope="session")
def aws_resources(service_image: str, docker_network: Network, aws_emulator: Emulator) -> Emulator:
    """The bucket, table and jobs queue, made by the image itself: ``python -m service
    create-resources``."""
    _create_resources(
        service_image, docker_network, service_env(aws_emulator.internal_url, aws_emulator.host_url)
    )
    return aws_emulator


def _create_resources(image: str, network: Network, env: dict[str, str]) -> None:
    command = ["python", "-m", "service", "create-resources"]
    status, out, err = run_to_end(image, network, env, command)
    if status != 0:
        pytest.fail(f"create-resources exited {status}:\n{out}{err}")


# --- the worker ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def jobs_worker(
    service_image: str, docker_network: Network, aws_resources: Emulator
) -> Iterator[DockerContainer]:
    """The worker of the API containers below (gunicorn and Lambda mode share its queue)."""
    env = service_env(aws_resources.internal_url, aws_resources.host_url)
    with worker_container(service_image, docker_network, env) as worker:
        wait_for_worker(worker)
        yield worker


# --- gunicorn mode ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def service_container(
    service_image: str, docker_network: Network, aws_resources: Emulator
) -> Iterator[DockerContainer]:
    container = (
        DockerContainer(service_image)
        .with_envs(**service_env(aws_resources.internal_url, aws_resources.host_url))
        .with_env("GUNICORN_WORKERS", "2")
        .with_exposed_ports(8000)
        .with_network(docker_network)
    )
    read_only(container)
    with container:
        url = f"http://{container.get_container_host_ip()}:{container.get_exposed_port(8000)}"
        wait_until(
            "service /health/ready",
            lambda: requests.get(f"{url}/health/ready", timeout=2).status_code == 200,
            timeout=60,
            logs=lambda: container_logs(container),
        )
        yield container


@pytest.fixture(scope="session")
def service_url(service_container: DockerContainer, jobs_worker: DockerContainer) -> str:
    port = service_container.get_exposed_port(8000)
    return f"http://{service_container.get_container_host_ip()}:{port}"


# --- Lambda mode -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def jwks_url() -> Iterator[str]:
    """The test issuer's JWKS, served from this process (host-network containers reach it)."""
    with served_jwks(ISSUER_KEYS) as url:
        yield url


@pytest.fixture(scope="session")
def signed_in_service_url(
    service_image: str, aws_resources: Emulator, jwks_url: str, jobs_worker: DockerContainer
) -> Iterator[str]:
    """gunicorn mode with sign-in on, on the host network (it fetches the JWKS from here)."""
    port = free_port()
    container = (
        DockerContainer(service_image)
        .with_envs(**service_env(aws_resources.host_url, aws_resources.host_url))
        .with_envs(**signed_in_env(jwks_url))
        .with_env("PORT", str(port))
        .with_env("GUNICORN_WORKERS", "1")
    )
    read_only(container).with_kwargs(read_only=True, network_mode="host")
    with container:
        url = f"http://127.0.0.1:{port}"
        wait_until(
            "signed-in service /health/ready",
            lambda: requests.get(f"{url}/health/ready", timeout=2).status_code == 200,
            timeout=60,
            logs=lambda: container_logs(container),
        )
        yield url


@pytest.fixture(scope="session")
def lambda_runtime(
    service_image: str, aws_resources: Emulator, jwks_url: str, jobs_worker: DockerContainer
) -> Iterator[LambdaRuntimeDouble]:
    """The image in Lambda mode, with sign-in on, polling a runtime API double in this process.

    The container shares the host's network, so it reaches the double and the JWKS on 127.0.0.1
    and the emulator on its host-mapped port (which is also what presigned URLs are signed for).
    """
    runtime = LambdaRuntimeDouble().start()
    container = (
        DockerContainer(service_image)
        .with_envs(**service_env(aws_resources.host_url, aws_resources.host_url))
        .with_envs(**signed_in_env(jwks_url))
        .with_env("AWS_LAMBDA_RUNTIME_API", runtime.address)
        .with_env("AWS_LAMBDA_FUNCTION_NAME", "mpycloud")
    )
    read_only(container).with_kwargs(read_only=True, network_mode="host")
    try:
        with container:
            wait_until(
                "Lambda runtime client's first poll",
                lambda: runtime.first_poll_at is not None or runtime.init_errors,
                timeout=60,
                logs=lambda: container_logs(container),
            )
            if runtime.init_errors:
                pytest.fail(
                    f"handler init failed: {runtime.init_errors}\n{container_logs(container)}"
                )
            runtime.container = container
            yield runtime
            runtime.stop()  # the client's pending poll gets a 500 and the process exits
            container.get_wrapped_container().wait(timeout=20)
    finally:
        runtime.stop()


# --- jobs on a queue of their own ------------------------------------------------------------


@pytest.fixture(scope="session")
def jobs_stack(
    service_image: str, docker_network: Network, aws_resources: Emulator
) -> Iterator[JobsStack]:
    """gunicorn mode sending its jobs to a queue (and dead letters) of its own, made by
    create-resources; no worker takes them until a test starts one."""
    queue = f"worker-tests-{uuid.uuid4().hex[:8]}"
    own = {"JOBS_QUEUE_NAME": queue, "MAX_FILE_SIZE": str(256 * 1024 * 1024)}
    env = service_env(aws_resources.internal_url, aws_resources.host_url) | own
    _create_resources(service_image, docker_network, env)
    api = (
        DockerContainer(service_image)
        .with_envs(**env)
        .with_env("GUNICORN_WORKERS", "2")
        .with_exposed_ports(8000)
        .with_network(docker_network)
    )
    read_only(api)
    with api:
        url = f"http://{api.get_container_host_ip()}:{api.get_exposed_port(8000)}"
        wait_until(
            "jobs stack /health/ready",
            lambda: requests.get(f"{url}/health/ready", timeout=2).status_code == 200,
            timeout=60,
            logs=lambda: container_logs(api),
        )
        yield JobsStack(
            api_url=url,
            queue_name=queue,
            worker_env=env,
            lambda_env=service_env(aws_resources.host_url, aws_resources.host_url) | own,
        )


@pytest.fixture
def lambda_worker(service_image: str, jobs_stack: JobsStack) -> Iterator[LambdaRuntimeDouble]:
    """The image as the worker's Lambda function runs it (ImageConfig.Command
    ``service.entrypoints.lambda_worker.handler``), polling a runtime API double in this
    process; on the host network, as ``lambda_runtime``."""
    runtime = LambdaRuntimeDouble().start()
    container = (
        DockerContainer(service_image)
        .with_envs(**jobs_stack.lambda_env)
        .with_env("AWS_LAMBDA_RUNTIME_API", runtime.address)
        .with_env("AWS_LAMBDA_FUNCTION_NAME", "mpycloud-worker")
        .with_command(["service.entrypoints.lambda_worker.handler"])
    )
    read_only(container).with_kwargs(read_only=True, network_mode="host")
    try:
        with container:
            wait_until(
                "Lambda worker's first poll",
                lambda: runtime.first_poll_at is not None or runtime.init_errors,
                timeout=60,
                logs=lambda: container_logs(container),
            )
            if runtime.init_errors:
                pytest.fail(
                    f"worker init failed: {runtime.init_errors}\n{container_logs(container)}"
                )
            runtime.container = container
            yield runtime
            runtime.stop()
            container.get_wrapped_container().wait(timeout=20)
    finally:
        runtime.stop()
