"""The worker as ECS runs it: ``python -m service worker``, a real process over moto's server
beside gunicorn. It takes an upload session to READY, scrubbed; SIGTERM stops it; a job that
keeps failing ends in the dead letters, which ``python -m service dead-letters`` lists."""

from __future__ import annotations

import hashlib
import io
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
import requests
from PIL import Image

from service.entrypoints.provisioning import MAX_RECEIVES
from tests.integration.processes import ROOT, Stack, gunicorn_serving, gunicorn_stack
from tests.support import located_images

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("integration")]
GPS_IFD = 0x8825


@pytest.fixture(scope="module")
def worker_stack(moto_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = gunicorn_stack(
        moto_server,
        "worker",
        tmp_path_factory.mktemp("worker") / "gunicorn.log",
        AUTH_MODE="none",
        DEDUPE="off",
        WORKER_WAIT_SECONDS="1",
    )
    created = stack.run("create-resources")
    assert created.returncode == 0, created.stderr
    with gunicorn_serving(stack):
        yield stack


def start_worker(stack: Stack, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "service", "worker"],
            env=stack.env,
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )


def watch(stack: Stack, upload_id: str, timeout: float = 30) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while True:
        session: dict[str, object] = requests.get(
            f"{stack.base_url}/uploads/{upload_id}", timeout=10
        ).json()
        if session["status"] != "PROCESSING" or time.monotonic() > deadline:
            return session
        time.sleep(0.2)


def sqs(stack: Stack) -> SQSClient:
    return boto3.client(
        "sqs",
        endpoint_url=stack.emulator_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def test_the_worker_process_takes_a_session_to_ready_scrubbed_and_stops_on_sigterm(
    worker_stack: Stack, tmp_path: Path
) -> None:
    stack = worker_stack
    data = located_images.jpeg(exif=located_images.exif_block(gps=True))
    opened = requests.post(
        f"{stack.base_url}/uploads",
        json={
            "user_id": "alice",
            "filename": "located.jpg",
            "content_type": "image/jpeg",
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        },
        timeout=10,
    ).json()
    sent = requests.post(
        opened["url"], data=opened["fields"], files={"file": ("located.jpg", data)}, timeout=10
    )
    assert sent.status_code in (200, 201, 204), sent.text
    completed = requests.post(
        f"{stack.base_url}/uploads/{opened['upload_id']}/complete", json={}, timeout=10
    )
    assert completed.status_code == 202, completed.text
    assert completed.json()["status"] == "PROCESSING"
    assert completed.headers["Location"] == f"/uploads/{opened['upload_id']}"
    worker = start_worker(stack, tmp_path / "worker.log")
    try:
        session = watch(stack, opened["upload_id"])
        assert session["status"] == "READY", session["failure"]
        image = requests.get(f"{stack.base_url}/images/{session['image_id']}", timeout=10).json()
        assert image["blurhash"]
        assert [r["size"] for r in image["renditions"]] == [256]
        link = requests.get(
            f"{stack.base_url}/images/{session['image_id']}/download", timeout=10
        ).json()
        stored = requests.get(link["download_url"], timeout=10).content
        assert hashlib.sha256(stored).hexdigest() == image["sha256"]
        assert GPS_IFD not in Image.open(io.BytesIO(stored)).getexif()
    finally:
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(timeout=20)
    assert code == 0, (tmp_path / "worker.log").read_text()
    assert "worker stopped" in (tmp_path / "worker.log").read_text()


def test_a_message_no_run_can_take_ends_in_the_dead_letters_which_the_command_lists(
    worker_stack: Stack, tmp_path: Path
) -> None:
    stack = worker_stack
    client = sqs(stack)
    url = client.get_queue_url(QueueName=stack.env["JOBS_QUEUE_NAME"])["QueueUrl"]
    # Each failed delivery comes back at once rather than after the visibility timeout.
    client.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "0"})
    client.send_message(QueueUrl=url, MessageBody="not a job")
    worker = start_worker(stack, tmp_path / "worker.log")
    try:
        deadline = time.monotonic() + 30
        letters: list[dict[str, Any]] = []
        while not letters and time.monotonic() < deadline:
            listed = stack.run("dead-letters")
            assert listed.returncode == 0, listed.stderr
            letters = [json.loads(line) for line in listed.stdout.splitlines()]
            time.sleep(0.5)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=20)
    assert [letter["body"] for letter in letters] == ["not a job"]
    assert letters[0]["receive_count"] >= MAX_RECEIVES
    # Listed, not taken: it is still there.
    again = [json.loads(line) for line in stack.run("dead-letters").stdout.splitlines()]
    assert [letter["message_id"] for letter in again] == [letters[0]["message_id"]]
