"""Upload sessions handed to the worker, through the Flask test client on moto's in-process S3 +
DynamoDB + SQS: complete answers 202 and where to watch; the worker's jobs (run from the SQS
queue as ``python -m service worker`` runs them, or fed to it as a Lambda SQS event) make the
session READY with an image that has its placeholder and smallest rendition, or FAILED with
its reason; POST /images takes small files only."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from flask.testing import FlaskClient

from service.adapters.dynamodb.session_repository import DynamoDBUploadSessions
from service.bootstrap import build_job_queue, dynamodb_client
from service.domain.errors import StorageUnavailable
from service.domain.jobs import Delivery, Job, JobKind
from service.domain.model import object_key, rendition_key
from service.entrypoints.app import create_app
from service.entrypoints.worker import Worker
from service.settings import Settings
from tests.support.aws import moto_environment, small_settings
from tests.support.forms import encoded_upload_form, upload_form
from tests.support.images import jpeg, png, png_of_size
from tests.support.jobs import queue_arn, run_jobs, sqs_event, sqs_record, worker_for

MIB = 1024 * 1024
BUCKET = "test-images-bucket"
SESSION_FIELDS = {
    "upload_id",
    "status",
    "expires_at",
    "size",
    "content_type",
    "part_size",
    "part_count",
    "parts",
    "missing_parts",
    "image_id",
    "duplicate",
    "failure",
}


@pytest.fixture
def settings() -> Iterator[Settings]:
    values = small_settings(
        max_file_size=64 * MIB, multipart_threshold=5 * MIB, max_direct_upload_size=MIB
    )
    with moto_environment(values) as settings:
        yield settings


@pytest.fixture
def client(settings: Settings) -> FlaskClient:
    return create_app(settings).test_client()


def opened(client: FlaskClient, data: bytes, **fields: Any) -> dict[str, Any]:
    body = {"filename": "cat.png", "content_type": "image/png", "size": len(data)}
    response = client.post("/uploads", json=body | {"user_id": "alice"} | fields)
    assert response.status_code == 201, response.get_json()
    ticket: dict[str, Any] = response.get_json()
    return ticket


def posted(client: FlaskClient, data: bytes, **fields: Any) -> str:
    """A single-POST session with its bytes sent: its id."""
    ticket = opened(client, data, **fields)
    sent = requests.post(
        ticket["url"], data=ticket["fields"], files={"file": ("cat.png", data)}, timeout=30
    )
    assert sent.status_code in (200, 204), sent.text
    upload_id: str = ticket["upload_id"]
    return upload_id


def completed(
    client: FlaskClient, upload_id: str, parts: list[dict[str, Any]] | None = None
) -> Any:
    response = client.post(f"/uploads/{upload_id}/complete", json={"parts": parts or []})
    assert response.status_code == 202, response.get_json()
    return response


def keys(prefix: str) -> list[str]:
    listed = boto3.client("s3", region_name="us-east-1").list_objects_v2(
        Bucket=BUCKET, Prefix=prefix
    )
    return [item["Key"] for item in listed.get("Contents", [])]


def chosen_image_id(settings: Settings, upload_id: str) -> str:
    """The id complete chose for the session's image (the API shows it once READY only)."""
    sessions = DynamoDBUploadSessions(dynamodb_client(settings), settings.dynamodb_table_name)
    session = sessions.get(upload_id)
    assert session is not None
    assert session.image_id is not None
    return session.image_id


def test_complete_answers_202_with_the_session_where_to_watch_it_and_when(
    client: FlaskClient,
) -> None:
    upload_id = posted(client, png())

    done = completed(client, upload_id)

    assert done.headers["Location"].endswith(f"/uploads/{upload_id}")
    assert done.headers["Retry-After"] == "1"
    session = done.get_json()
    assert set(session) == SESSION_FIELDS
    assert (session["upload_id"], session["status"]) == (upload_id, "PROCESSING")
    assert (session["size"], session["content_type"]) == (len(png()), "image/png")
    assert (session["image_id"], session["duplicate"], session["failure"]) == (None, False, None)
    # watching it: the same, with the same headers, until the job runs
    watched = client.get(done.headers["Location"])
    assert watched.status_code == 200
    assert watched.get_json()["status"] == "PROCESSING"
    assert (watched.headers["Location"], watched.headers["Retry-After"]) == (
        done.headers["Location"],
        "1",
    )


def test_after_its_job_the_session_is_ready_and_its_image_has_a_placeholder_and_a_rendition(
    client: FlaskClient, settings: Settings
) -> None:
    upload_id = posted(client, jpeg((640, 480)), filename="cat.jpg", content_type="image/jpeg")
    completed(client, upload_id)

    assert run_jobs(settings) == 1

    watched = client.get(f"/uploads/{upload_id}")
    session = watched.get_json()
    assert (session["status"], session["failure"], session["duplicate"]) == ("READY", None, False)
    assert "Retry-After" not in watched.headers
    image_id = session["image_id"]
    assert image_id == chosen_image_id(settings, upload_id)
    image = client.get(f"/images/{image_id}").get_json()
    assert image["blurhash"]
    assert image["dominant_color"].startswith("#")
    assert [(r["size"], r["format"]) for r in image["renditions"]] == [(256, "jpeg")]
    assert keys(rendition_key(image_id, 256, "jpeg")) == [rendition_key(image_id, 256, "jpeg")]
    assert keys("incoming/") == []
    # a complete after the end answers 200 with how it ended
    late = client.post(f"/uploads/{upload_id}/complete", json={})
    assert (late.status_code, late.get_json()["image_id"]) == (200, image_id)
    assert "Location" not in late.headers


def test_a_failed_session_carries_its_reason_and_the_image_it_would_have_been_never_exists(
    client: FlaskClient, settings: Settings
) -> None:
    data = png()
    upload_id = posted(client, data, sha256=hashlib.sha256(b"other bytes").hexdigest())
    completed(client, upload_id)
    image_id = chosen_image_id(settings, upload_id)

    assert run_jobs(settings) == 1

    session = client.get(f"/uploads/{upload_id}").get_json()
    assert (session["status"], session["image_id"]) == ("FAILED", None)
    assert "SHA-256" in session["failure"]
    assert client.get(f"/images/{image_id}").status_code == 404
    assert keys("incoming/") == []
    assert keys(object_key(image_id)) == []
    assert client.get("/images").get_json()["items"] == []


def test_a_completed_multipart_session_has_no_missing_parts(
    client: FlaskClient, settings: Settings
) -> None:
    data = png_of_size(6 * MIB)
    ticket = opened(client, data)
    assert ticket["method"] == "PUT"
    size, parts = ticket["part_size"], []
    for part in ticket["parts"]:
        number = part["part_number"]
        sent = requests.put(part["url"], data=data[(number - 1) * size : number * size], timeout=30)
        parts.append({"part_number": number, "etag": sent.headers["ETag"]})

    processing = completed(client, ticket["upload_id"], parts).get_json()
    run_jobs(settings)
    ready = client.get(f"/uploads/{ticket['upload_id']}").get_json()

    assert ready["status"] == "READY"
    assert (processing["missing_parts"], ready["missing_parts"]) == ([], [])


def test_post_images_above_the_direct_upload_cap_is_413_naming_upload_sessions(
    client: FlaskClient,
) -> None:
    small = client.post(
        "/images", data=upload_form(png(), filename="a.png"), content_type="multipart/form-data"
    )
    assert small.status_code == 201, small.get_json()

    body, content_type = encoded_upload_form(png_of_size(2 * MIB), filename="a.png")
    large = client.post("/images", data=body, content_type=content_type)

    assert large.status_code == 413
    message = large.get_json()["message"]
    assert "upload session" in message
    assert "POST /uploads" in message
    # a session takes it: the cap is POST /images' alone
    assert (
        client.post(
            "/uploads",
            json={
                "filename": "a.png",
                "content_type": "image/png",
                "size": 2 * MIB,
                "user_id": "a",
            },
        ).status_code
        == 201
    )


def test_a_lambda_sqs_batch_reports_only_the_failed_records(
    client: FlaskClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a completed session, an image whose job meets S3 failing, and a message that holds
    # no job
    upload_id = posted(client, png())
    completed(client, upload_id)
    image = client.post("/images", data=upload_form(jpeg()), content_type="multipart/form-data")
    image_id = image.get_json()["image_id"]
    arn = queue_arn(settings)
    good = sqs_record(Job(JobKind.UPLOAD, upload_id).encode(), queue_arn=arn)
    transient = sqs_record(Job(JobKind.DERIVE, image_id).encode(), queue_arn=arn)
    unreadable = sqs_record("not a job", queue_arn=arn)
    worker = worker_for(settings)
    processor = worker._processor  # the worker's own, whose S3 fails for one job
    run = processor.run

    def run_unless_it_is_the_derive(delivery: Delivery) -> None:
        if delivery.job.subject == image_id:
            raise StorageUnavailable("Could not read the image (no answer)")
        run(delivery)

    monkeypatch.setattr(processor, "run", run_unless_it_is_the_derive)

    # WHEN the event source mapping hands them over in one batch (lambda_worker.handler)
    event = sqs_event([good, transient, unreadable])
    answer = worker.handle_records(event["Records"])

    # THEN only the failed ones are reported, for the queue to deliver again
    assert answer == {
        "batchItemFailures": [
            {"itemIdentifier": transient["messageId"]},
            {"itemIdentifier": unreadable["messageId"]},
        ]
    }
    assert client.get(f"/uploads/{upload_id}").get_json()["status"] == "READY"


def test_the_worker_finishes_the_job_in_hand_then_stops_when_asked(
    client: FlaskClient, settings: Settings
) -> None:
    upload_id = posted(client, png())
    completed(client, upload_id)
    stop = threading.Event()
    inner = worker_for(settings)
    processor = inner._processor  # the worker's own, watched

    class StoppedMidJob:
        def run(self, delivery: Delivery) -> None:
            stop.set()  # SIGTERM arrives while the job runs
            processor.run(delivery)

    worker = Worker(StoppedMidJob(), build_job_queue(settings), wait_seconds=0)  # type: ignore[arg-type]

    timed_out = threading.Event()

    def give_up() -> None:  # a worker that does not stop must not hang the suite
        timed_out.set()
        stop.set()

    guard = threading.Timer(30, give_up)
    guard.start()
    try:
        worker.run(stop)
    finally:
        guard.cancel()

    assert not timed_out.is_set(), "the worker did not stop when asked"
    assert client.get(f"/uploads/{upload_id}").get_json()["status"] == "READY"
    assert run_jobs(settings) == 0  # the job's message was deleted
