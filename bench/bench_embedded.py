"""``make bench-embedded``: does ``make run`` hold 10,000 images under concurrent writers?

    .venv/bin/python bench/bench_embedded.py [--images 10000] [--writers 16] [--url URL]

Starts ``python -m devtools run-local`` on free loopback ports (or uses ``--url``, an API that
is already running) and fills it with small generated JPEGs, bucket by bucket. In each bucket
of ``--bucket`` images, ``--probe`` uploads are sent one at a time (the serial latency at that
table size) and the rest by ``--writers`` concurrent threads, in turns. It prints, per bucket,
the serial and concurrent median latencies and the errors (any answer but 201), and at the end
the ratio of the last bucket's serial median to the first's: flat is 1.0.

The machine's load changes during a long run (other processes), and moves every latency with
it. So each serial probe is paired with one on a reference: a second ``run-local`` whose table
stays empty (each of its uploads is deleted again). The ratio of the two in a bucket is the
cost of the table's size alone; the last bucket's over the first's is printed as well.
``--no-reference`` skips it; ``--reference-url`` names one already running.

Bounded: it stops after ``--max-seconds`` (default 1800) even if the images are not all in.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
TAGS = ("nature", "sunset", "city", "people", "food", "travel", "night", "animals")
USERS = tuple(f"bench-user-{n}" for n in range(16))
SEGMENTS = 5


def jpegs(count: int = 64) -> list[bytes]:
    """Small, distinct JPEGs (a few hundred bytes each)."""
    shots = []
    for n in range(count):
        out = io.BytesIO()
        Image.new("RGB", (32, 24), (n * 4 % 256, 80, 255 - n * 4 % 256)).save(out, "JPEG")
        shots.append(out.getvalue())
    return shots


@dataclass
class Bucket:
    serial_ms: list[float] = field(default_factory=list)
    reference_ms: list[float] = field(default_factory=list)
    concurrent_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class Uploader:
    def __init__(self, base_url: str) -> None:
        self._base_url = base_url
        self._images = jpegs()
        self._local = threading.local()
        self._random = random.Random(7)  # noqa: S311 - test data, not secrets
        self._lock = threading.Lock()

    def upload(self) -> tuple[float, str | None, str | None]:
        """One upload: (latency in ms, None or a description of the error, the image id)."""
        session = self._session()
        with self._lock:
            image = self._random.choice(self._images)
            user = self._random.choice(USERS)
            tags = self._random.sample(TAGS, 2)
        started = time.perf_counter()
        try:
            response = session.post(
                f"{self._base_url}/images",
                files={"image": ("bench.jpg", image, "image/jpeg")},
                data={"user_id": user, "description": "bench", "tags": json.dumps(tags)},
                timeout=120,
            )
        except requests.RequestException as error:
            return (time.perf_counter() - started) * 1000, type(error).__name__, None
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 201:
            text = " ".join(response.text.split())[:120]
            return elapsed, f"{response.status_code} {text}", None
        return elapsed, None, str(response.json()["image_id"])

    def delete(self, image_id: str) -> None:
        self._session().delete(f"{self._base_url}/images/{image_id}", timeout=120)

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def run_local() -> Iterator[str]:
    """``make run``'s command on free ports, its output in a temporary log."""
    port, emulator_port = free_port(), free_port()
    log = open(os.devnull, "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(  # noqa: S603 - this interpreter, our own module
        [
            sys.executable,
            *("-m", "devtools", "run-local"),
            *("--port", str(port), "--emulator-port", str(emulator_port)),
        ],
        cwd=ROOT,
        # The benchmark measures storage: without sign-in where the service has it.
        env={**os.environ, "LOG_LEVEL": "WARNING", "AUTH_MODE": "none"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("run-local did not start")
            try:
                if requests.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _share(total: int, segment: int) -> int:
    """The part of ``total`` that falls to ``segment`` of SEGMENTS (the parts add up)."""
    return total * (segment + 1) // SEGMENTS - total * segment // SEGMENTS


def fill(uploader: Uploader, reference: Uploader | None, args: argparse.Namespace) -> list[Bucket]:
    buckets: list[Bucket] = []
    deadline = time.monotonic() + args.max_seconds
    with ThreadPoolExecutor(args.writers) as pool:
        for start in range(0, args.images, args.bucket):
            if time.monotonic() > deadline:
                print(f"stopped after {args.max_seconds} s (--max-seconds)")
                break
            bucket = Bucket()
            size = min(args.bucket, args.images - start)
            probes = min(args.probe, size)
            # The serial probes are spread over the bucket, between the concurrent uploads, so
            # that a passing burst of load on the machine weighs less on one bucket's median.
            for segment in range(SEGMENTS):
                for _ in range(_share(probes, segment)):
                    elapsed, error, _ = uploader.upload()
                    bucket.serial_ms.append(elapsed)
                    if error:
                        bucket.errors.append(error)
                    if reference is not None:
                        elapsed, _, image_id = reference.upload()
                        bucket.reference_ms.append(elapsed)
                        if image_id:
                            reference.delete(image_id)
                uploads = range(_share(size - probes, segment))
                for elapsed, error, _ in pool.map(lambda _: uploader.upload(), uploads):
                    bucket.concurrent_ms.append(elapsed)
                    if error:
                        bucket.errors.append(error)
            buckets.append(bucket)
            concurrent = statistics.median(bucket.concurrent_ms) if bucket.concurrent_ms else 0
            serial = statistics.median(bucket.serial_ms)
            versus = ""
            if bucket.reference_ms:
                empty = statistics.median(bucket.reference_ms)
                versus = f" (empty table {empty:6.1f} ms: {serial / empty:4.2f}x)"
            print(
                f"{start:6d}-{start + size:<6d} serial median {serial:7.1f} ms{versus} | "
                f"{args.writers} writers median {concurrent:7.1f} ms | errors {len(bucket.errors)}",
                flush=True,
            )
            for error in sorted(set(bucket.errors))[:3]:
                print(f"    e.g. {error}")
    return buckets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="an API already running (default: start run-local)")
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--bucket", type=int, default=1_000, help="images per reported bucket")
    parser.add_argument("--probe", type=int, default=50, help="serial uploads per bucket")
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--max-seconds", type=float, default=1800)
    parser.add_argument("--reference-url", help="an API already running for the reference")
    parser.add_argument("--no-reference", action="store_true", help="no reference stack")
    args = parser.parse_args()

    started = time.monotonic()
    with ExitStack() as stack:
        url = stack.enter_context(run_local() if args.url is None else _given(args.url))
        reference = None
        if not args.no_reference:
            reference_url = stack.enter_context(
                run_local() if args.reference_url is None else _given(args.reference_url)
            )
            reference = Uploader(reference_url)
        print(
            f"{args.images} uploads to {url}: per bucket of {args.bucket}, {args.probe} serial "
            f"and {args.writers} concurrent writers, in turns"
        )
        buckets = fill(Uploader(url), reference, args)
    errors = sum(len(b.errors) for b in buckets)
    total = sum(len(b.serial_ms) + len(b.concurrent_ms) for b in buckets)
    print(f"{total} uploads in {time.monotonic() - started:.0f} s, {errors} errors")
    if len(buckets) >= 2:
        first, last = buckets[0], buckets[-1]
        ratio = statistics.median(last.serial_ms) / statistics.median(first.serial_ms)
        print(f"serial latency, last bucket / first bucket: {ratio:.2f}x (flat = 1.0)")
        if first.reference_ms and last.reference_ms:
            ratio /= statistics.median(last.reference_ms) / statistics.median(first.reference_ms)
            print(f"  the same, each over the empty table's at the time: {ratio:.2f}x")
        if first.concurrent_ms and last.concurrent_ms:
            ratio = statistics.median(last.concurrent_ms) / statistics.median(first.concurrent_ms)
            print(f"concurrent latency, last bucket / first bucket: {ratio:.2f}x")


@contextmanager
def _given(url: str) -> Iterator[str]:
    yield url.rstrip("/")


if __name__ == "__main__":
    main()
