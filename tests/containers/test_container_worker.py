"""The worker, the image's third mode, next to the API in gunicorn mode, on the emulator's S3,
DynamoDB and SQS: complete answers 202 and the worker makes the session READY; a job
delivered twice makes one image; a worker killed mid-job leaves nothing half-made and the job
comes back; a job that fails every delivery ends in the dead letters, which the image lists; a
worker stopped with SIGTERM finishes the job in hand; and the worker's Lambda handler.

Only the first test uses the session's API and worker (the default queue, as create-resources
makes it). The others use ``jobs_stack``, an API whose queue no worker serves until the test
starts one, and lower the queue's VisibilityTimeout rather than wait out its 30 minutes.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import time
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image as PILImage
from testcontainers.core.container import DockerContainer
from testcontainers.core.network import Network

from service.domain.sessions import INCOMING_PREFIX
from service.usecases.processing import GAVE_UP
from tests.containers.harness import (
    REGION,
    Emulator,
    JobsStack,
    aws_client,
    container_logs,
    run_to_end,
    wait_for_worker,
    wait_until,
    worker_container,
)
from tests.containers.sessions import (
    MIB,
    arrived_keys,
    counts,
    dead_letters_url,
    download,
    images_of,
    new_user,
    queue_url,
    session_of,
    upload,
    visibility_timeout,
    wait_ready,
)
from tests.support.exiftool import locations
from tests.support.images import has_gps, png_chunk, png_of_size
from tests.support.lambda_runtime import LambdaRuntimeDouble
from tests.support.located_images import exif_block, jpeg, noise, tiff_block

pytestmark = [pytest.mark.containers, pytest.mark.xdist_group("containers")]

# Above the 16 MiB multipart threshold: three parts of 8, 8 and about 1 MiB.
MULTIPART_SIZE = 17 * MIB
# Large enough that reading and copying it keeps the worker busy well after its first step.
SLOW_SIZE = 128 * MIB


def located_jpeg(size: int) -> bytes:
    """A JPEG of noise of a little more than ``size`` bytes, whose EXIF holds a position."""
    side = math.ceil(math.sqrt(size / 4.0))  # about 4.1 bytes a pixel at quality 100, 4:4:4
    data = jpeg(noise((side, side)), quality=100, subsampling=0, exif=exif_block())
    assert len(data) > size
    return data


def located_png(size: int) -> bytes:
    """A PNG of exactly ``size`` bytes (random filler), whose eXIf chunk holds a position."""
    data = png_of_size(size, png_chunk(b"eXIf", tiff_block()))
    assert has_gps(data)
    return data


def job_body(upload_id: str) -> dict[str, str]:
    return {"kind": "upload", "subject": upload_id}


def pixels(data: bytes) -> bytes:
    with PILImage.open(io.BytesIO(data)) as image:
        return image.tobytes()


def wait_gone(s3: Any, upload_id: str) -> None:
    """READY comes first, then the bytes that arrived are deleted."""
    wait_until("incoming/ emptied", lambda: arrived_keys(s3, upload_id) == [], timeout=30)


def wait_for_first_step(s3: Any, upload_id: str, worker: DockerContainer) -> None:
    """Until the worker has completed the multipart upload (its first step): the job is in
    hand, and reading hundreds of MiB is still ahead of it."""
    key = f"{INCOMING_PREFIX}{upload_id}"
    deadline = time.monotonic() + 120
    while key not in arrived_keys(s3, upload_id):
        if time.monotonic() > deadline:
            pytest.fail(f"the worker never completed {key}\n{container_logs(worker)}")
        time.sleep(0.05)


def check_one_image_without_location(api_url: str, user: str, image_id: str, sent: bytes) -> bytes:
    """The user's one image is ``image_id``; its stored original holds no position and is
    what its record says (size, SHA-256 of the rewritten bytes); the original returned."""
    images = images_of(api_url, user)
    assert [image["image_id"] for image in images] == [image_id]
    original = download(api_url, image_id)
    assert not has_gps(original)
    assert images[0]["size_bytes"] == len(original) < len(sent)
    assert images[0]["sha256"] == hashlib.sha256(original).hexdigest()
    assert images[0]["sha256"] != hashlib.sha256(sent).hexdigest()
    return original


@pytest.fixture
def s3(aws_resources: Emulator) -> Iterator[Any]:
    client = aws_client("s3", aws_resources)
    yield client
    client.close()


@pytest.fixture
def sqs(aws_resources: Emulator) -> Iterator[Any]:
    client = aws_client("sqs", aws_resources)
    yield client
    client.close()


@pytest.fixture
def jobs(jobs_stack: JobsStack, sqs: Any) -> str:
    """The URL of jobs_stack's queue, which nothing holds when a test starts."""
    url = queue_url(sqs, jobs_stack.queue_name)
    assert counts(sqs, url) == (0, 0)
    return url


def start_worker(image: str, network: Network, stack: JobsStack) -> DockerContainer:
    worker = worker_container(image, network, stack.worker_env).start()
    wait_for_worker(worker)
    return worker


def test_a_multipart_upload_is_made_ready_by_the_worker_without_its_location(
    service_url: str, s3: Any
) -> None:
    data = located_jpeg(MULTIPART_SIZE)
    assert locations(data)  # exiftool reads the position in what is sent
    user = new_user("worker")

    session = upload(service_url, data, user_id=user)
    assert session["part_count"] >= 2
    assert session["image_id"] is None  # nothing to fetch before READY
    ready = wait_ready(service_url, session["upload_id"])

    original = check_one_image_without_location(service_url, user, ready["image_id"], data)
    assert locations(original) == []
    assert pixels(original) == pixels(data)
    wait_gone(s3, session["upload_id"])


def test_a_job_delivered_twice_makes_one_image(
    service_image: str,
    docker_network: Network,
    jobs_stack: JobsStack,
    jobs: str,
    sqs: Any,
    s3: Any,
) -> None:
    api, user = jobs_stack.api_url, new_user("twice")
    data = located_jpeg(MULTIPART_SIZE)
    upload_id = upload(api, data, user_id=user)["upload_id"]
    # The API's job, looked at and left; then the same body twice more, as SQS may deliver it.
    sent = sqs.receive_message(QueueUrl=jobs, WaitTimeSeconds=5, VisibilityTimeout=0)
    [message] = sent["Messages"]
    assert json.loads(message["Body"]) == job_body(upload_id)
    for _ in range(2):
        sqs.send_message(QueueUrl=jobs, MessageBody=message["Body"])

    # One worker takes the three copies in turn: the first run publishes, the later ones find
    # the session READY and drop their job. (Not two workers at once: LocalStack's S3 fails the
    # second run's CopyObject onto the key the first one just wrote, with a 500, and leaves that
    # object unreadable, its GET never answered.)
    with (
        visibility_timeout(sqs, jobs, 5),
        worker_container(service_image, docker_network, jobs_stack.worker_env) as worker,
    ):
        ready = wait_ready(api, upload_id)
        wait_until(
            "every copy of the job done",
            lambda: counts(sqs, jobs) == (0, 0),
            timeout=60,
            logs=lambda: container_logs(worker),
        )
        logs = container_logs(worker, last=0)
    assert logs.count("is not PROCESSING; job dropped") == 2

    check_one_image_without_location(api, user, ready["image_id"], data)
    wait_gone(s3, upload_id)


def test_a_worker_killed_mid_job_leaves_nothing_half_made(
    service_image: str,
    docker_network: Network,
    jobs_stack: JobsStack,
    jobs: str,
    sqs: Any,
    s3: Any,
) -> None:
    api, user = jobs_stack.api_url, new_user("killed")
    data = located_png(SLOW_SIZE)
    upload_id = upload(api, data, user_id=user, content_type="image/png")["upload_id"]

    with visibility_timeout(sqs, jobs, 5):
        doomed = start_worker(service_image, docker_network, jobs_stack)
        try:
            wait_for_first_step(s3, upload_id, doomed)
            doomed.get_wrapped_container().kill(signal="SIGKILL")  # docker kill -s KILL
            assert doomed.get_wrapped_container().wait(timeout=30)["StatusCode"] == 137
        finally:
            doomed.stop()
        assert session_of(api, upload_id)["status"] == "PROCESSING"
        assert images_of(api, user) == []
        assert sum(counts(sqs, jobs)) == 1  # the job, in flight until its timeout

        # After the visibility timeout the job comes back, to another worker.
        with worker_container(service_image, docker_network, jobs_stack.worker_env):
            ready = wait_ready(api, upload_id, timeout=180)
            wait_until("the job deleted", lambda: counts(sqs, jobs) == (0, 0), timeout=30)

    original = check_one_image_without_location(api, user, ready["image_id"], data)
    assert original[-MIB:] == data[-MIB:]  # the filler, after the EXIF
    wait_gone(s3, upload_id)


def test_a_stopped_worker_finishes_the_job_in_hand_then_exits_0(
    service_image: str,
    docker_network: Network,
    jobs_stack: JobsStack,
    jobs: str,
    sqs: Any,
    s3: Any,
) -> None:
    api, user = jobs_stack.api_url, new_user("stopped")
    data = located_png(SLOW_SIZE)
    upload_id = upload(api, data, user_id=user, content_type="image/png")["upload_id"]

    worker = start_worker(service_image, docker_network, jobs_stack)
    try:
        wait_for_first_step(s3, upload_id, worker)
        assert session_of(api, upload_id)["status"] == "PROCESSING"
        worker.get_wrapped_container().stop(timeout=120)  # docker stop: SIGTERM, then a wait
        assert worker.get_wrapped_container().wait(timeout=30)["StatusCode"] == 0
        logs = container_logs(worker)
    finally:
        worker.stop()
    assert "worker stopped" in logs

    ready = session_of(api, upload_id)
    assert ready["status"] == "READY", ready
    assert counts(sqs, jobs) == (0, 0)
    check_one_image_without_location(api, user, ready["image_id"], data)


def test_jobs_that_fail_every_delivery_end_in_the_dead_letters(
    service_image: str,
    docker_network: Network,
    jobs_stack: JobsStack,
    jobs: str,
    sqs: Any,
    s3: Any,
) -> None:
    api, user = jobs_stack.api_url, new_user("poison")
    dead = dead_letters_url(sqs, jobs_stack.queue_name)
    assert counts(sqs, dead) == (0, 0)  # no other test leaves any
    # A job that fails again on every delivery: S3 does not answer the worker as it should
    # (here, a worker given a bucket that does not exist: an outage that outlasts the retries).
    upload_id = upload(api, located_jpeg(MULTIPART_SIZE), user_id=user)["upload_id"]
    # And a message that is no job at all.
    sqs.send_message(QueueUrl=jobs, MessageBody="not a job")
    outage = jobs_stack.worker_env | {"S3_BUCKET_NAME": "no-such-bucket"}

    with (
        visibility_timeout(sqs, jobs, 1),
        worker_container(service_image, docker_network, outage) as worker,
    ):
        wait_until(
            "both messages in the dead letters",
            lambda: counts(sqs, dead)[0] == 2 and counts(sqs, jobs) == (0, 0),
            timeout=120,
            logs=lambda: container_logs(worker),
        )
        logs = container_logs(worker, last=0)
    assert "holds no job" in logs
    for attempt in range(1, 6):  # maxReceiveCount: five deliveries, each failed
        assert f"(delivery {attempt})" in logs
    # On its last delivery the job gave up on the session, for its owner to see.
    failed = session_of(api, upload_id)
    assert (failed["status"], failed["failure"]) == ("FAILED", GAVE_UP)
    assert images_of(api, user) == []
    # Its bytes stay for the sweep and the bucket's lifecycle rule: the worker could not reach
    # them to delete them.

    # python -m service dead-letters, in a container of the image: one JSON line each.
    command = ["python", "-m", "service", "dead-letters"]
    status, out, err = run_to_end(service_image, docker_network, jobs_stack.worker_env, command)
    assert status == 0, out + err
    # stdout holds the log's JSON lines too: a letter is a line with a message_id.
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    letters = [line for line in lines if "message_id" in line]
    bodies = [letter["body"] for letter in letters]
    assert sorted(bodies, key=lambda body: body == "not a job") == [
        json.dumps(job_body(upload_id), separators=(",", ":")),
        "not a job",
    ]
    assert all(letter["receive_count"] >= 5 for letter in letters), letters
    assert counts(sqs, dead)[0] == 2  # listed, and left there


def test_the_lambda_worker_runs_an_sqs_batch_and_reports_the_record_that_failed(
    lambda_worker: LambdaRuntimeDouble, jobs_stack: JobsStack, jobs: str, sqs: Any, s3: Any
) -> None:
    api, user = jobs_stack.api_url, new_user("lambda-worker")
    data = located_jpeg(MULTIPART_SIZE)
    upload_id = upload(api, data, user_id=user)["upload_id"]
    # What the SQS event source mapping does: receive, then call the function with a batch.
    received = sqs.receive_message(
        QueueUrl=jobs, WaitTimeSeconds=5, MessageSystemAttributeNames=["All"]
    )
    [message] = received["Messages"]
    assert json.loads(message["Body"]) == job_body(upload_id)
    arn = sqs.get_queue_attributes(QueueUrl=jobs, AttributeNames=["QueueArn"])["Attributes"]
    bad = {"MessageId": "0b5e6a3c-not-a-job", "ReceiptHandle": "bad", "Body": "not a job"}
    event = {"Records": [_record(m, arn["QueueArn"]) for m in (message, bad)]}

    answer = lambda_worker.invoke(event, timeout=180)

    assert answer == {"batchItemFailures": [{"itemIdentifier": bad["MessageId"]}]}
    ready = session_of(api, upload_id)
    assert ready["status"] == "READY", ready
    check_one_image_without_location(api, user, ready["image_id"], data)
    wait_gone(s3, upload_id)
    sqs.delete_message(QueueUrl=jobs, ReceiptHandle=message["ReceiptHandle"])  # as the mapping


def _record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """An SQS message as the event source mapping hands it to the function."""
    attributes = message.get("Attributes", {})
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {
            "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
            "SentTimestamp": attributes.get("SentTimestamp", str(int(time.time() * 1000))),
            "SenderId": attributes.get("SenderId", "AIDAEXAMPLE"),
            "ApproximateFirstReceiveTimestamp": str(int(time.time() * 1000)),
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(message["Body"].encode(), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


def test_the_images_healthcheck_passes_in_worker_mode(jobs_worker: DockerContainer) -> None:
    """The worker opens no port: the image's HEALTHCHECK must not ask one of it."""
    code, output = jobs_worker.exec(["python", "/app/docker/healthcheck.py"])
    assert code == 0, output
