"""``make bench``: uploads on LocalStack, each figure next to a baseline measured in the same run.

1. ``POST /images`` through the API in process (``create_app`` on LocalStack's S3, DynamoDB and
   SQS), 8 threads, against the floor any upload pays: a raw boto3 ``put_object`` +
   ``put_item`` loop, 8 threads, items of the same size. Alternating rounds of photos of about
   300 KB (1600x1200 at quality 85, GPS in their EXIF, each upload's bytes unique); the figure is
   the ratio of the medians.
2. The worker, one thread in process as ECS runs it: N upload sessions (single presigned POSTs
   of the same photos) are completed first, then the worker drains them to READY. Images per
   second, and the ratio to the ``POST /images`` rate of step 1.
3. Multipart uploads of a photo padded to 16 MiB (plus one byte: the smallest that goes
   multipart), 256 MiB and, with ``BENCH_LARGE=1``, 1 GiB: the wall time of the ``complete``
   request alone; then the time the worker (a ``python -m service worker`` process) takes to
   READY, its peak resident memory over its idle one (``/proc/<pid>/status``), and checks that
   the stored original has the SHA-256 the image records and no GPS left.

Where the padding goes: the location scrub keeps nothing after the end-of-image marker (so a
file padded there would be stored as the small photo it starts with), and Pillow holds every
APPn and COM segment in memory. The filler (bytes without 0xFF) lies between the end of the
scan and the end-of-image marker: decoders stop before it, the scrub copies it, and the stored
original is as large as the upload.

LocalStack (``localstack/localstack:4.14.0``, with ``S3_SKIP_SIGNATURE_VALIDATION=0`` as the
container tests run it) is started here through testcontainers when a Docker engine answers
and the image is present; otherwise the bench prints one line saying why it skipped.
``BENCH_PROFILE=1`` adds a cProfile of ``POST /images`` (one thread) to step 1.
"""

from __future__ import annotations

import cProfile
import hashlib
import io
import logging
import os
import pstats
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image as PILImage
from PIL import ImageFilter

if TYPE_CHECKING:
    from flask import Flask
    from flask.testing import FlaskClient

    from service.settings import Settings

LOCALSTACK_IMAGE = "localstack/localstack:4.14.0"
THREADS = 8
UPLOADS_PER_ROUND = 80
ROUNDS = 3
WORKER_SESSIONS = 60
SERIAL = 30  # requests of each path, one at a time, for the AWS calls' breakdown
TAGS = ("nature", "sunset", "travel")
USER = "bench"
MIB = 1024 * 1024
# The smallest multipart upload at the default MULTIPART_THRESHOLD (16 MiB), 256 MiB (the
# default MAX_FILE_SIZE), and 1 GiB with BENCH_LARGE=1.
LARGE_SIZES = (16 * MIB + 1, 256 * MIB)
LARGEST = 1024 * MIB
PART_THREADS = 4
ROOT = Path(__file__).resolve().parents[1]
EXIF_GPS_IFD = 0x8825
EMULATOR_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}


# --- photos ------------------------------------------------------------------------------------


def photo(width: int = 1600, height: int = 1200) -> bytes:
    """A photograph's worth of detail (blurred noise on gradients) at quality 85, with a
    camera's EXIF and a GPS position: about 300 KB at 1600x1200."""
    gradient = PILImage.linear_gradient("L").resize((width, height))

    def texture() -> PILImage.Image:
        noise = PILImage.effect_noise((width, height), 50).filter(ImageFilter.GaussianBlur(1.0))
        return PILImage.blend(gradient, noise, 0.5)

    flipped = gradient.transpose(PILImage.Transpose.FLIP_LEFT_RIGHT)
    rgb = PILImage.merge("RGB", (texture(), texture(), PILImage.blend(flipped, texture(), 0.5)))
    exif = PILImage.Exif()
    exif[0x010F] = "BenchCam"
    exif[0x0110] = "Model 1"
    gps = exif.get_ifd(EXIF_GPS_IFD)
    gps.update({1: "N", 2: (48.0, 51.0, 29.5), 3: "E", 4: (2.0, 17.0, 40.0)})
    out = io.BytesIO()
    rgb.save(out, format="JPEG", quality=85, exif=exif)
    return out.getvalue()


def unique(data: bytes, label: str) -> bytes:
    """``data`` with a comment segment after its APPn segments: other bytes, the same image
    (uploads of the same bytes by one user are duplicates, which the service does not store)."""
    position = 2
    while data[position] == 0xFF and 0xE0 <= data[position + 1] <= 0xEF:
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        position += 2 + length
    comment = label.encode()
    segment = b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment
    return data[:position] + segment + data[position:]


class Photos:
    """A few distinct photos, handed out with unique bytes."""

    def __init__(self, count: int = 4) -> None:
        self._bases = [photo() for _ in range(count)]
        self._lock = threading.Lock()
        self._next = 0

    @property
    def mean_size(self) -> float:
        return statistics.mean(len(base) for base in self._bases)

    def take(self, count: int) -> list[bytes]:
        with self._lock:
            first, self._next = self._next, self._next + count
        return [
            unique(self._bases[n % len(self._bases)], f"bench {n} {uuid.uuid4().hex}")
            for n in range(first, first + count)
        ]


def padded_photo(path: Path, size: int) -> str:
    """Write a photo with GPS padded to ``size`` bytes (the filler before its end-of-image
    marker, see the module's docstring) to ``path``; its SHA-256."""
    base = photo()
    assert base.endswith(b"\xff\xd9")
    head, eoi = base[:-2], base[-2:]
    filler = os.urandom(MIB).replace(b"\xff", b"\x00")
    digest = hashlib.sha256(head)
    left = size - len(base)
    assert left >= 0
    with path.open("wb") as out:
        out.write(head)
        while left > 0:
            chunk = filler[: min(left, len(filler))]
            out.write(chunk)
            digest.update(chunk)
            left -= len(chunk)
        out.write(eoi)
    digest.update(eoi)
    return digest.hexdigest()


# --- LocalStack ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LocalStack:
    url: str
    container: Any  # testcontainers' DockerContainer

    def cpu_seconds(self) -> float:
        """CPU time the container's processes have used so far (Docker's one-shot stats)."""
        stats = self.container.get_wrapped_container().stats(stream=False, one_shot=True)
        return int(stats["cpu_stats"]["cpu_usage"]["total_usage"]) / 1e9


@contextmanager
def localstack() -> Iterator[LocalStack | None]:
    """A fresh LocalStack, or None (and why, printed) when it cannot run here."""
    try:
        from testcontainers.core.container import DockerContainer
        from testcontainers.core.docker_client import DockerClient

        docker = DockerClient()
        present = docker.client.images.list(name=LOCALSTACK_IMAGE)
    except Exception as error:  # no docker SDK, no engine
        print(f"uploads on LocalStack: skipped: no Docker engine answers ({type(error).__name__})")
        yield None
        return
    if not present:
        print(
            f"uploads on LocalStack: skipped: the image {LOCALSTACK_IMAGE} is not present "
            f"(docker pull {LOCALSTACK_IMAGE}, then make bench again)"
        )
        yield None
        return
    import requests

    # Presigned URLs' signatures checked as S3 checks them, as the container tests run it.
    container = (
        DockerContainer(LOCALSTACK_IMAGE)
        .with_env("SERVICES", "s3,dynamodb,sqs")
        .with_env("S3_SKIP_SIGNATURE_VALIDATION", "0")
        .with_exposed_ports(4566)
    )
    with container:
        url = f"http://{container.get_container_host_ip()}:{container.get_exposed_port(4566)}"
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if requests.get(url + "/_localstack/health", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        yield LocalStack(url, container)


# --- measuring -----------------------------------------------------------------------------------


def per_second(action: Callable[[int], object], count: int, threads: int = THREADS) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(action, range(count)))
    return count / (time.perf_counter() - started)


class AwsCalls:
    """The AWS calls this process makes, by thread and operation, timed from the request's
    signing to its parsed answer (botocore's before-call and after-call events). Installed on
    boto3's default session before any client is made: clients copy its handlers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[tuple[str, str, float]] = []  # thread, operation, seconds

    def install(self) -> None:
        import boto3

        boto3.setup_default_session()
        assert boto3.DEFAULT_SESSION is not None
        boto3.DEFAULT_SESSION.events.register("before-call", self._before)
        boto3.DEFAULT_SESSION.events.register("after-call", self._after)

    def _before(self, context: dict[str, Any], **_: Any) -> None:
        context["bench_started"] = time.perf_counter()

    def _after(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        started = context.get("bench_started")
        if started is not None:
            call = (threading.current_thread().name, str(model.name), time.perf_counter() - started)
            with self._lock:
                self._calls.append(call)

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()

    def summary(self, thread: str, per: int) -> tuple[float, str]:
        """Seconds in AWS calls per ``per`` (jobs, requests) on ``thread``, and each
        operation's share: count and milliseconds per ``per``."""
        by_operation: dict[str, list[float]] = {}
        with self._lock:
            for name, operation, seconds in self._calls:
                if name == thread:
                    by_operation.setdefault(operation, []).append(seconds)
        total = sum(sum(times) for times in by_operation.values()) / per
        ranked = sorted(by_operation.items(), key=lambda item: -sum(item[1]))
        shares = ", ".join(
            f"{operation} {len(times) / per:.3g}x {sum(times) / per * 1000:.0f} ms"
            for operation, times in ranked
        )
        return total, shares


AWS_CALLS = AwsCalls()


class Clients:
    """One Flask test client per thread."""

    def __init__(self, app: Flask) -> None:
        self._app = app
        self._local = threading.local()

    def get(self) -> FlaskClient:
        client: FlaskClient | None = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self._app.test_client()
        return client


@dataclass(frozen=True)
class Process:
    """A process's memory, from /proc/<pid>/status (Linux)."""

    pid: int

    def status(self, field: str) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024
        raise LookupError(field)

    def reset_peak(self) -> bool:
        """VmHWM starts again from the current RSS (Linux >= 4.0)."""
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        except OSError:
            return False
        return True


class Sampler:
    """VmRSS every few milliseconds: the peak, when VmHWM cannot be reset."""

    def __init__(self, process: Process) -> None:
        self._process = process
        self._stop = threading.Event()
        self.peak = process.status("VmRSS")
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, self._process.status("VmRSS"))

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


# --- the run -------------------------------------------------------------------------------------


def main() -> None:
    started = time.perf_counter()
    AWS_CALLS.install()
    with localstack() as emulator:
        if emulator is not None:
            run(emulator)
            print(f"uploads on LocalStack: {time.perf_counter() - started:.0f} s in all")
    sys.stdout.flush()


def run(emulator: LocalStack) -> None:
    os.environ.update(EMULATOR_CREDENTIALS, AWS_DEFAULT_REGION="us-east-1")
    os.environ.pop("AWS_ENDPOINT_URL", None)
    logging.disable(logging.WARNING)  # AUTH_MODE=none's warning
    from service.entrypoints.app import create_app
    from service.entrypoints.provisioning import create_resources
    from service.settings import Settings

    settings = Settings(
        aws_endpoint_url=emulator.url,
        s3_bucket_name="bench-uploads",
        dynamodb_table_name="bench-uploads",
        jobs_queue_name="bench-jobs",
        # The 1 GiB upload (the default is 256 MiB).
        max_file_size=LARGEST,
        auth_mode="none",
        cursor_secret="bench-cursor-secret-0123456789",  # noqa: S106 - a local emulator
    )
    # POST /images sends its DERIVE jobs to a queue of their own, which no worker reads here:
    # the worker of step 2 runs the upload sessions' jobs alone.
    derive_settings = replace(settings, jobs_queue_name="bench-derive")
    create_resources(settings)
    create_resources(derive_settings)
    photos = Photos()
    print(
        f"photos: 1600x1200 JPEG, quality 85, GPS in EXIF, {photos.mean_size / 1000:.0f} KB "
        "on average, each upload's bytes unique"
    )
    post_rate = bench_post_images(emulator, derive_settings, create_app(derive_settings), photos)
    app = create_app(settings)
    bench_worker(settings, app, photos, post_rate)
    bench_large(settings, app)


def bench_post_images(
    emulator: LocalStack, settings: Settings, app: Flask, photos: Photos
) -> float:
    """POST /images (API in process) against put_object + put_item, 8 threads each; then
    where the time goes: CPU per upload here and in LocalStack, and one thread's AWS calls."""
    from service.adapters.dynamodb import items
    from service.bootstrap import dynamodb_client, s3_client
    from service.domain.model import Image, ImageStatus, new_image_id, utc_now

    s3, dynamodb = s3_client(settings), dynamodb_client(settings)
    clients = Clients(app)

    def post(data: bytes) -> None:
        response = clients.get().post(
            "/images",
            data={
                "user_id": USER,
                "tags": ",".join(TAGS),
                "image": (io.BytesIO(data), "photo.jpg", "image/jpeg"),
            },
            content_type="multipart/form-data",
        )
        assert response.status_code == 201, response.get_data(as_text=True)

    def raw(data: bytes) -> None:
        now = utc_now()
        image = Image(
            image_id=new_image_id(now),
            user_id=USER,
            content_type="image/jpeg",
            size_bytes=len(data),
            width=1600,
            height=1200,
            sha256=hashlib.sha256(data).hexdigest(),
            original_filename="photo.jpg",
            created_at=now,
            updated_at=now,
            tags=TAGS,
            status=ImageStatus.READY,
        )
        s3.put_object(Bucket=settings.s3_bucket_name, Key=image.object_key, Body=data)
        dynamodb.put_item(TableName=settings.dynamodb_table_name, Item=items.to_item(image))

    cpu: dict[str, list[float]] = {"raw": [0.0, 0.0], "api": [0.0, 0.0]}

    def rate(name: str, action: Callable[[bytes], None], count: int) -> float:
        bodies = photos.take(count)
        here, there = time.process_time(), emulator.cpu_seconds()
        result = per_second(lambda n: action(bodies[n]), count)
        cpu[name][0] += (time.process_time() - here) / count / ROUNDS
        cpu[name][1] += (emulator.cpu_seconds() - there) / count / ROUNDS
        return result

    rate("raw", raw, 40)  # warm both paths: connections, LocalStack's lazy start, Pillow's import
    rate("api", post, 40)
    for spent in cpu.values():
        spent[:] = [0.0, 0.0]
    raw_rates, api_rates = [], []
    for _ in range(ROUNDS):
        raw_rates.append(rate("raw", raw, UPLOADS_PER_ROUND))
        api_rates.append(rate("api", post, UPLOADS_PER_ROUND))
    raw_rate, api_rate = statistics.median(raw_rates), statistics.median(api_rates)
    print(
        f"POST /images, {THREADS} threads, median of {ROUNDS} rounds of {UPLOADS_PER_ROUND}: "
        f"{api_rate:5.1f}/s vs raw boto3 put_object + put_item {raw_rate:5.1f}/s -> "
        f"{api_rate / raw_rate:.2f}x"
    )
    print(
        f"  CPU per upload ({os.cpu_count()} CPUs): POST /images {cpu['api'][0] * 1000:.0f} ms "
        f"in this process + {cpu['api'][1] * 1000:.0f} ms in LocalStack; raw "
        f"{cpu['raw'][0] * 1000:.0f} ms + {cpu['raw'][1] * 1000:.0f} ms"
    )
    for name, action in (("POST /images", post), ("raw", raw)):
        bodies = photos.take(SERIAL)
        AWS_CALLS.clear()
        started = time.perf_counter()
        for data in bodies:
            action(data)
        wall = (time.perf_counter() - started) / SERIAL
        aws, shares = AWS_CALLS.summary(threading.current_thread().name, SERIAL)
        print(
            f"  one thread, {name}: {wall * 1000:.0f} ms a request, AWS calls "
            f"{aws * 1000:.0f} ms of it ({shares})"
        )
    if os.environ.get("BENCH_PROFILE") == "1":
        profile_post_images(post, photos)
    return api_rate


def profile_post_images(post: Callable[[bytes], None], photos: Photos) -> None:
    """Where one thread's POST /images spends its time: the functions that take most of it
    themselves (waiting on a socket is LocalStack's time)."""
    bodies = photos.take(UPLOADS_PER_ROUND)
    profiler = cProfile.Profile()
    profiler.enable()
    for data in bodies:
        post(data)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
    print(f"cProfile of {len(bodies)} POST /images, one thread:\n{out.getvalue()}")


def open_single_post(client: FlaskClient, data: bytes) -> str:
    """An upload session of ``data`` sent by its presigned POST and completed: its id."""
    import requests

    ticket = client.post(
        "/uploads",
        json={
            "user_id": USER,
            "filename": "photo.jpg",
            "content_type": "image/jpeg",
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "tags": list(TAGS),
        },
    )
    assert ticket.status_code == 201, ticket.get_data(as_text=True)
    body: dict[str, Any] = ticket.get_json()
    sent = requests.post(
        body["url"], data=body["fields"], files={"file": ("photo.jpg", data)}, timeout=60
    )
    assert sent.status_code in (200, 204), sent.text
    done = client.post(f"/uploads/{body['upload_id']}/complete", json={})
    assert done.status_code == 202, done.get_data(as_text=True)
    return str(body["upload_id"])


def session_of(client: FlaskClient, upload_id: str) -> dict[str, Any]:
    response = client.get(f"/uploads/{upload_id}")
    assert response.status_code == 200, response.get_data(as_text=True)
    session: dict[str, Any] = response.get_json()
    return session


def wait_ready(client: FlaskClient, upload_ids: list[str], timeout: float) -> None:
    """Until every session is READY (ids in the order they were queued: the first one not
    READY yet ends a round), polling every 50 ms."""
    left = list(upload_ids)
    deadline = time.monotonic() + timeout
    while left:
        status = session_of(client, left[0])
        if status["status"] == "READY":
            left.pop(0)
            continue
        assert status["status"] == "PROCESSING", status
        assert time.monotonic() < deadline, f"{len(left)} sessions not READY in {timeout:.0f} s"
        time.sleep(0.05)


def bench_worker(settings: Settings, app: Flask, photos: Photos, post_rate: float) -> None:
    """The worker in process, one thread, draining N completed single-POST sessions."""
    from service.bootstrap import build_job_processor, build_job_queue
    from service.entrypoints.worker import Worker

    clients = Clients(app)
    bodies = photos.take(WORKER_SESSIONS)
    with ThreadPoolExecutor(THREADS) as pool:
        upload_ids = list(pool.map(lambda data: open_single_post(clients.get(), data), bodies))
    stop = threading.Event()
    worker = Worker(build_job_processor(settings), build_job_queue(settings), wait_seconds=1)
    thread = threading.Thread(target=worker.run, args=(stop,), name="bench-worker", daemon=True)
    AWS_CALLS.clear()
    started = time.perf_counter()
    thread.start()
    try:
        wait_ready(clients.get(), upload_ids, timeout=600)
    finally:
        elapsed = time.perf_counter() - started
        stop.set()
        thread.join()
    count = len(upload_ids)
    rate = count / elapsed
    aws, shares = AWS_CALLS.summary("bench-worker", count)
    print(
        f"worker (in process, one thread): {count} single-POST sessions to READY in "
        f"{elapsed:.1f} s: {rate:5.1f} img/s vs POST /images {post_rate:5.1f}/s "
        f"({THREADS} threads) -> {rate / post_rate:.2f}x"
    )
    print(
        f"  a job: {elapsed / count * 1000:.0f} ms, AWS calls {aws * 1000:.0f} ms of it ({shares})"
    )


# --- large multipart uploads -------------------------------------------------------------------


@contextmanager
def worker_process(settings: Settings, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``python -m service worker`` on the bench's resources, its output in ``log``."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        **EMULATOR_CREDENTIALS,
        "AWS_DEFAULT_REGION": settings.aws_default_region,
        "AWS_ENDPOINT_URL": settings.aws_endpoint_url or "",
        "S3_BUCKET_NAME": settings.s3_bucket_name,
        "DYNAMODB_TABLE_NAME": settings.dynamodb_table_name,
        "JOBS_QUEUE_NAME": settings.jobs_queue_name,
        "MAX_FILE_SIZE": str(settings.max_file_size),
        "WORKER_WAIT_SECONDS": "1",
        "LOG_LEVEL": "INFO",
    }
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "service", "worker"],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def upload_parts(ticket: dict[str, Any], path: Path) -> list[dict[str, Any]]:
    """Each part PUT to its presigned URL (4 at a time): the parts to complete with."""
    import requests

    size = int(ticket["part_size"])

    def put(part: dict[str, Any]) -> dict[str, Any]:
        number = int(part["part_number"])
        with path.open("rb") as source:
            source.seek((number - 1) * size)
            chunk = source.read(size)
        sent = requests.put(part["url"], data=chunk, timeout=300)
        assert sent.status_code == 200, sent.text
        return {"part_number": number, "etag": sent.headers["ETag"]}

    with ThreadPoolExecutor(PART_THREADS) as pool:
        return list(pool.map(put, ticket["parts"]))


def stored_sha256_and_gps(settings: Settings, key: str) -> tuple[str, bool]:
    """The stored object's SHA-256 (streamed), and whether its EXIF still holds a GPS IFD."""
    from service.bootstrap import s3_client

    s3 = s3_client(settings)
    body = s3.get_object(Bucket=settings.s3_bucket_name, Key=key)["Body"]
    digest = hashlib.sha256()
    head = b""
    while chunk := body.read(MIB):
        if len(head) < MIB:
            head += chunk
        digest.update(chunk)
    with PILImage.open(io.BytesIO(head)) as image:
        gps = bool(image.getexif().get_ifd(EXIF_GPS_IFD))
    return digest.hexdigest(), gps


def bench_large(settings: Settings, app: Flask) -> None:
    sizes = [*LARGE_SIZES, *([LARGEST] if os.environ.get("BENCH_LARGE") == "1" else [])]
    client = app.test_client()
    with tempfile.TemporaryDirectory(prefix="bench-uploads-") as folder:
        log = Path(folder) / "worker.log"
        with worker_process(settings, log) as process:
            worker = Process(process.pid)
            # Warm: the first job imports Pillow and makes the clients.
            warm_up = open_single_post(client, unique(photo(), "warm-up"))
            wait_ready(client, [warm_up], timeout=120)
            for size in sizes:
                try:
                    large_upload(settings, client, worker, Path(folder) / "upload.jpg", size)
                except Exception:
                    print(f"--- worker log ---\n{log.read_text()[-4000:]}")
                    raise
    if LARGEST not in sizes:
        print("1 GiB: not run (BENCH_LARGE=1 runs it)")


def large_upload(
    settings: Settings, client: FlaskClient, worker: Process, path: Path, size: int
) -> None:
    label = (
        f"{size // LARGEST} GiB"
        if size % LARGEST == 0
        else f"{size // MIB} MiB" + (f" + {size % MIB} B" if size % MIB else "")
    )
    prepared = time.perf_counter()
    sha256 = padded_photo(path, size)
    ticket_response = client.post(
        "/uploads",
        json={
            "user_id": USER,
            "filename": "large.jpg",
            "content_type": "image/jpeg",
            "size": size,
            "sha256": sha256,
        },
    )
    assert ticket_response.status_code == 201, ticket_response.get_data(as_text=True)
    ticket: dict[str, Any] = ticket_response.get_json()
    parts = upload_parts(ticket, path)
    path.unlink()
    sent = time.perf_counter() - prepared
    upload_id = ticket["upload_id"]

    idle = worker.status("VmRSS")
    reset = worker.reset_peak()
    with Sampler(worker) as sampler:
        AWS_CALLS.clear()
        started = time.perf_counter()
        done = client.post(f"/uploads/{upload_id}/complete", json={"parts": parts})
        answered = time.perf_counter()
        assert done.status_code == 202, done.get_data(as_text=True)
        aws, shares = AWS_CALLS.summary(threading.current_thread().name, 1)
        wait_ready(client, [upload_id], timeout=1800)
        ready = time.perf_counter()
    peak = max(sampler.peak, worker.status("VmHWM") if reset else 0)

    image_id = session_of(client, upload_id)["image_id"]
    image = client.get(f"/images/{image_id}").get_json()
    stored_sha256, gps = stored_sha256_and_gps(settings, f"originals/{image_id}")
    assert stored_sha256 == image["sha256"], (stored_sha256, image["sha256"])
    assert not gps, "the stored original still has a GPS IFD"
    assert stored_sha256 != sha256  # rewritten without its location
    print(
        f"multipart {label} ({len(parts)} parts, written and sent in {sent:.1f} s): complete "
        f"answered {done.status_code} in {(answered - started) * 1000:.0f} ms; worker to READY "
        f"{ready - answered:.1f} s; worker RSS {idle / 1e6:.0f} MB idle, peak +"
        f"{(peak - idle) / 1e6:.0f} MB; stored original {image['size_bytes'] / MIB:.1f} MiB, "
        "SHA-256 as recorded, no GPS"
    )
    print(f"  complete's AWS calls: {aws * 1000:.0f} ms ({shares})")


if __name__ == "__main__":
    main()
