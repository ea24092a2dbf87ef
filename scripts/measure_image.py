"""Measure the service image: size, and start-up cost in Lambda and gunicorn modes.

    .venv/bin/python scripts/measure_image.py [--runs 5] [--no-build] [--json]

Needs a Docker engine. Figures:

* image size: uncompressed (what ``docker images`` shows, what Lambda's 10 GB limit counts),
  the part added over the base image, and the gzip-compressed ``docker save`` stream (about
  what a registry stores and a cold host pulls);
* Lambda cold start measured inside the container (read-only root, no network): interpreter
  start-up, ``import service.entrypoints.lambda_handler`` (settings, logging, Flask app), and
  the first
  event (an HTTP API ``GET /health``); the median of ``--runs`` fresh containers. The import
  is also given as a ratio to ``import flask, boto3``, the least any handler of this stack
  imports: in each container ``--pairs`` fresh interpreters import one, then the other, in
  turn, and the container's ratio is that of the fastest of each (the noise of a shared
  machine only ever adds time); the median of the containers' ratios is shown, with their
  range and the ratio of the medians, and the ratio to ``import flask, boto3`` with the garbage
  collector paused too (the handler pauses it while it makes the app);
* gunicorn mode: ``docker run`` until ``GET /health`` answers 200 (``preload_app``, 2 workers);
  Docker's own container start-up is part of it.

The image's Lambda entry point (``awslambdaric`` polling the Runtime API) is not timed here: it
needs a Runtime API to poll, and the container tests (``tests/containers``) exercise it against
a test double.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import time
import zlib
from pathlib import Path
from typing import Any
from urllib.request import urlopen

import docker

ROOT = Path(__file__).resolve().parents[1]
# One tag per checkout: work trees sharing a Docker engine must not measure each other's image.
DEFAULT_TAG = f"mpycloud:measure-{zlib.crc32(str(ROOT).encode()):08x}"
TMPFS = {"/tmp": ""}  # noqa: S108 - the container's only writable directory
ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",  # never called: /health is liveness only
    "CURSOR_SECRET": "measure-cursor-secret-0123456789",
    # Sign-in as in production (AUTH_MODE=jwt); the issuer is never called before a token is.
    "AUTH_ISSUER": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Measure",
    "AUTH_CLIENT_IDS": "measure-client",
}
HEALTH_EVENT = {
    "version": "2.0",
    "routeKey": "$default",
    "rawPath": "/health",
    "rawQueryString": "",
    "headers": {"host": "abc123.execute-api.us-east-1.amazonaws.com"},
    "requestContext": {
        "http": {"method": "GET", "path": "/health", "protocol": "HTTP/1.1", "sourceIp": "1.2.3.4"},
        "stage": "$default",
    },
    "isBase64Encoded": False,
}


def timed_import(label: str, modules: str, *, collector_paused: bool = False) -> str:
    """A program printing ``label`` and how long importing ``modules`` took."""
    pause = "gc.disable()\n" if collector_paused else ""
    return (
        f"import gc, time\n{pause}t0 = time.perf_counter()\nimport {modules}\n"
        f"print({label!r}, time.perf_counter() - t0)\n"
    )


BASELINE = timed_import("BASELINE", "flask, boto3")
# The handler makes the app with the garbage collector paused
# (service/entrypoints/start_up.py); the same
# baseline with the collector paused too says what the handler costs over it, collector aside.
BASELINE_PAUSED = timed_import("PAUSED", "flask, boto3", collector_paused=True)
HANDLER_IMPORT = timed_import("IMPORT", "service.entrypoints.lambda_handler")
# $0: the measured run; $1: its event; $2: BASELINE; $3: HANDLER_IMPORT; $4: pairs;
# $5: BASELINE_PAUSED.
IN_CONTAINER_SCRIPT = (
    'i=0; while [ "$i" -lt "$4" ]; do'
    ' python -c "$2" && python -c "$5" && python -c "$3" || exit 1; i=$((i+1)); done'
    ' && started=$(date +%s%N) && exec python -c "$0" "$started" "$1"'
)
IN_CONTAINER = """
import json, sys, time
started_ns = int(sys.argv[1])
main_ns = time.time_ns()
t0 = time.perf_counter()
import service.entrypoints.lambda_handler as module
t1 = time.perf_counter()
response = module.handler(json.loads(sys.argv[2]), None)
t2 = time.perf_counter()
assert response["statusCode"] == 200, response
print("MEASURE " + json.dumps({
    "interpreter_s": (main_ns - started_ns) / 1e9, "import_s": t1 - t0, "first_event_s": t2 - t1,
}))
"""


def base_image(dockerfile: Path) -> str:
    match = re.search(r"^ARG PYTHON_IMAGE=(\S+)", dockerfile.read_text(), re.MULTILINE)
    return match.group(1) if match else "python:3.13-slim"


def compressed_size(image: Any) -> int:
    compressor = gzip.compress
    total = 0
    buffer = bytearray()
    for chunk in image.save(named=True):
        buffer += chunk
        if len(buffer) >= 64 * 1024 * 1024:
            total += len(compressor(bytes(buffer), compresslevel=6))
            buffer.clear()
    return total + len(compressor(bytes(buffer), compresslevel=6))


def in_container_cold_start(
    client: docker.DockerClient, tag: str, runs: int, pairs: int
) -> dict[str, float]:
    samples: list[dict[str, float]] = []
    ratios: list[float] = []
    paused_ratios: list[float] = []
    baselines: list[float] = []
    handler_imports: list[float] = []
    # One more run than asked, dropped: the first container after a build (or after the page
    # cache was emptied) reads the image's files from disk, which the baseline, run first,
    # pays alone.
    for run in range(runs + 1):
        output = client.containers.run(
            tag,
            [
                "sh",
                "-c",
                IN_CONTAINER_SCRIPT,
                IN_CONTAINER,
                json.dumps(HEALTH_EVENT),
                BASELINE,
                HANDLER_IMPORT,
                str(pairs),
                BASELINE_PAUSED,
            ],
            environment={**ENV, "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"},
            network_mode="none",
            read_only=True,
            tmpfs=TMPFS,
            remove=True,
        )
        lines = output.decode().splitlines()
        sample = json.loads(next(x for x in lines if x.startswith("MEASURE ")).split(" ", 1)[1])
        base, imports, paused = (
            [float(x.split()[1]) for x in lines if x.startswith(f"{label} ")]
            for label in ("BASELINE", "IMPORT", "PAUSED")
        )
        if run == 0:
            continue
        samples.append(sample)
        baselines.extend(base)
        handler_imports.extend(imports)
        ratios.append(min(imports) / min(base))
        paused_ratios.append(min(imports) / min(paused))
    figures = {key: statistics.median(s[key] for s in samples) for key in samples[0]}
    figures["total_s"] = statistics.median(sum(s.values()) for s in samples)
    figures["baseline_import_s"] = statistics.median(baselines)
    figures["alternated_import_s"] = statistics.median(handler_imports)
    figures["import_ratio"] = statistics.median(ratios)
    # The machine's noise shows here: the baseline alone varies by half between interpreters.
    figures["import_ratio_min"], figures["import_ratio_max"] = min(ratios), max(ratios)
    figures["import_ratio_collector_paused"] = statistics.median(paused_ratios)
    figures["import_ratio_of_medians"] = (
        figures["alternated_import_s"] / figures["baseline_import_s"]
    )
    return figures


def gunicorn_start(client: docker.DockerClient, tag: str) -> dict[str, float]:
    started = time.monotonic()
    container = client.containers.run(
        tag,
        environment=ENV,
        ports={"8000/tcp": ("127.0.0.1", 0)},  # host port 0: any free one
        read_only=True,
        tmpfs=TMPFS,
        detach=True,
    )
    try:
        container.reload()
        port = container.attrs["NetworkSettings"]["Ports"]["8000/tcp"][0]["HostPort"]
        deadline = started + 60
        while time.monotonic() < deadline:
            try:
                with urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as response:
                    if response.status == 200:
                        return {"docker_run_to_healthy_s": time.monotonic() - started}
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"gunicorn never answered /health:\n{container.logs().decode()}")
    finally:
        container.remove(force=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tag", default=DEFAULT_TAG)
    parser.add_argument("--no-build", action="store_true", help="measure --tag as it is")
    parser.add_argument("--build-network", default="host", help="network of the build steps")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--pairs", type=int, default=5, help="baseline and handler imports per container"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    client = docker.from_env()
    results: dict[str, Any] = {}
    if not args.no_build:
        started = time.monotonic()
        client.images.build(
            path=str(ROOT),
            tag=args.tag,
            network_mode=args.build_network,
            rm=True,  # docker-py keeps intermediate containers unless told otherwise
            forcerm=True,
        )
        results["build_s"] = time.monotonic() - started
    image = client.images.get(args.tag)
    base = base_image(ROOT / "Dockerfile")
    results["image_mb"] = image.attrs["Size"] / 1e6
    results["base_image"] = base
    results["added_over_base_mb"] = (
        image.attrs["Size"] - client.images.get(base).attrs["Size"]
    ) / 1e6
    results["compressed_mb"] = compressed_size(image) / 1e6
    results["lambda_in_container"] = in_container_cold_start(
        client, args.tag, args.runs, args.pairs
    )
    results["gunicorn"] = gunicorn_start(client, args.tag)
    client.close()

    if args.json:
        print(json.dumps(results, indent=2))
        return
    cold = results["lambda_in_container"]
    print(f"image {args.tag}: {results['image_mb']:.0f} MB uncompressed")
    print(f"  over base {base}: {results['added_over_base_mb']:.0f} MB")
    print(f"  gzip-compressed docker save: {results['compressed_mb']:.0f} MB")
    print(f"Lambda cold start in the container (median of {args.runs}):")
    print(f"  interpreter start-up         {cold['interpreter_s'] * 1000:7.0f} ms")
    print(f"  import service.entrypoints.lambda_handler {cold['import_s'] * 1000:6.0f} ms")
    print(
        f"  vs import flask, boto3, {args.pairs} alternating fresh interpreters per container:"
        f" {cold['import_ratio']:.2f}x\n"
        f"    (fastest over fastest; containers {cold['import_ratio_min']:.2f}"
        f"-{cold['import_ratio_max']:.2f}x; medians {cold['alternated_import_s'] * 1000:.0f}"
        f" / {cold['baseline_import_s'] * 1000:.0f} ms = {cold['import_ratio_of_medians']:.2f}x)"
    )
    print(
        "    over import flask, boto3 with the collector paused too (as the handler pauses it):"
        f" {cold['import_ratio_collector_paused']:.2f}x"
    )
    print(f"  first event (GET /health)    {cold['first_event_s'] * 1000:7.0f} ms")
    print(f"  total                        {cold['total_s'] * 1000:7.0f} ms")
    print(
        f"gunicorn mode, docker run -> /health 200: "
        f"{results['gunicorn']['docker_run_to_healthy_s'] * 1000:.0f} ms"
    )
    if "build_s" in results:
        print(f"(build took {results['build_s']:.1f}s)")


if __name__ == "__main__":
    main()
