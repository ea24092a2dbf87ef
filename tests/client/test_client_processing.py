"""After ``complete`` the service's worker processes an upload session: the client waits for
READY (as often as Retry-After says, within bounds, for a bounded time) and returns the image;
FAILED raises with the service's sentence; a wait cut short resumes on the next upload."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import mpycloud.cli.common
from mpycloud import (
    Client,
    MemoryResumeStore,
    UploadFailed,
    UploadStatus,
    UploadStillProcessing,
)
from mpycloud.cli import main
from tests.client.fake_service import API, S3, FakeService
from tests.client.files import png_file
from tests.client.tokens import fake_jwt

SHA_FAILURE = "The bytes' SHA-256 is 5e3b…, not the declared one"


class Clock:
    """A monotonic clock that only sleeping moves: waits take no time in tests."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def timed(fake: FakeService, clock: Clock, resume: MemoryResumeStore) -> Iterator[Client]:
    """Files over 2,000 bytes through sessions; a processing wait of 60 s at most, on ``clock``."""
    with Client(
        API,
        token="t",
        transport=fake.transport(),
        direct_upload_limit=2_000,
        resume=resume,
        processing_timeout=60,
        sleep=clock.sleep,
        clock=clock,
    ) as made:
        yield made


def polls(fake: FakeService) -> int:
    return len([r for r in fake.requests_to("GET", "/uploads/") if r.url.host != "s3.test"])


def test_an_upload_session_is_waited_for_until_ready_and_answers_its_image(
    timed: Client, fake: FakeService, clock: Clock, tmp_path: Path
) -> None:
    fake.processing_polls = 3
    photo = png_file(tmp_path, "large.png", 5_000)
    seen: list[tuple[str, float]] = []

    result = timed.upload(photo, tags=["big"], waiting=lambda s, t: seen.append((s.status, t)))

    assert result.route == "session"
    assert not result.duplicate
    assert result.image.image_id in fake.images
    assert result.image.tags == ["big"]
    assert result.image.size_bytes == 5_000
    assert polls(fake) == 4  # three PROCESSING answers, then READY
    assert clock.sleeps == [1.0] * 4  # complete's Retry-After, then each PROCESSING answer's
    assert seen == [("PROCESSING", float(n)) for n in range(4)]


def test_complete_answers_the_session_and_the_wait_answers_it_ready(
    timed: Client, fake: FakeService, tmp_path: Path
) -> None:
    fake.processing_polls = 1
    photo = png_file(tmp_path, "a.png", 5_000)
    ticket = timed.start_upload(filename="a.png", content_type="image/png", size=5_000)
    fake.objects[ticket.fields["key"]] = photo.read_bytes()

    completed = timed.complete_upload(ticket.upload_id)
    done = timed.wait_for_upload(ticket.upload_id, seen=completed)

    assert (completed.status, completed.retry_after, completed.image_id) == (
        "PROCESSING",
        1.0,
        None,
    )
    assert not completed.finished
    assert (done.status, done.finished, done.failure) == ("READY", True, None)
    assert done.image_id in fake.images
    # complete again, once it is finished: the session as it is (200)
    assert timed.complete_upload(ticket.upload_id) == done


def test_a_failed_upload_raises_the_services_sentence_and_is_not_resumed(
    timed: Client, fake: FakeService, resume: MemoryResumeStore, tmp_path: Path
) -> None:
    fake.failure = SHA_FAILURE
    fake.multipart_threshold = 3_000
    photo = png_file(tmp_path, "huge.png", 5_500)

    with pytest.raises(UploadFailed) as failed:
        timed.upload(photo)

    (upload_id,) = fake.sessions
    assert failed.value.upload_id == upload_id
    assert failed.value.failure == SHA_FAILURE
    assert SHA_FAILURE in str(failed.value)
    assert upload_id in str(failed.value)
    assert fake.images == {}
    assert len(resume) == 0  # the bytes are gone: the next upload starts a new session


@pytest.mark.parametrize(
    ("retry_after", "waits"),
    [
        ("3", [3.0, 3.0]),  # as the service asks
        ("30", [5.0, 5.0]),  # at most 5 s apart, whatever it asks
        ("0", [0.25, 0.25]),  # never a tight loop
        (None, [1.0, 1.0]),  # no Retry-After: every second
    ],
)
def test_retry_after_sets_the_pace_of_the_wait_within_bounds(
    timed: Client,
    fake: FakeService,
    clock: Clock,
    tmp_path: Path,
    retry_after: str | None,
    waits: list[float],
) -> None:
    fake.retry_after = retry_after
    fake.processing_polls = 1

    timed.upload(png_file(tmp_path, "a.png", 5_000))

    assert clock.sleeps == waits


def test_a_wait_that_outlasts_the_timeout_names_the_upload_and_the_next_upload_resumes_it(
    timed: Client, fake: FakeService, clock: Clock, resume: MemoryResumeStore, tmp_path: Path
) -> None:
    # GIVEN a worker far slower than the client's 60 s
    fake.processing_polls = 1_000
    fake.retry_after = "2"
    photo = png_file(tmp_path, "a.png", 5_000)

    # WHEN the client uploads
    with pytest.raises(UploadStillProcessing) as late:
        timed.upload(photo)

    # THEN the error names the upload, which goes on at the service, and the wait took 60 s
    (upload_id,) = fake.sessions
    assert late.value.upload_id == upload_id
    assert upload_id in str(late.value)
    assert "still processing after 60 s" in str(late.value)
    assert sum(clock.sleeps) == 60
    assert max(clock.sleeps) == 2.0
    assert timed.upload_status(upload_id).status == "PROCESSING"
    assert len(resume) == 1

    # AND once the worker is done, the same upload again sends nothing: it waits, and answers
    fake.sessions[upload_id]["polls_left"] = 0
    fake.seen.clear()
    result = timed.upload(photo)

    assert result.resumed
    assert result.route == "session"
    assert result.sent_bytes == 0
    assert result.image.image_id == fake.sessions[upload_id]["image_id"]
    assert [(r.method, r.url.path) for r in fake.seen if r.url.host != "s3.test"] == [
        ("GET", f"/uploads/{upload_id}"),
        ("GET", f"/images/{result.image.image_id}"),
    ]
    assert fake.requests_to("POST", S3) == []
    assert len(resume) == 0


def test_an_interrupted_wait_resumes_and_a_session_that_failed_meanwhile_starts_over(
    timed: Client, fake: FakeService, resume: MemoryResumeStore, tmp_path: Path
) -> None:
    fake.processing_polls = 5
    photo = png_file(tmp_path, "a.png", 5_000)

    def interrupt(status: UploadStatus, waited: float) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        timed.upload(photo, waiting=interrupt)
    (first,) = fake.sessions
    fake.sessions[first] |= {"status": "FAILED", "failure": "The worker gave up"}

    result = timed.upload(photo)

    assert not result.resumed
    assert len(fake.sessions) == 2
    assert fake.sessions[first]["status"] == "FAILED"
    assert result.image.image_id in fake.images


def test_a_duplicate_through_a_session_is_a_result_naming_the_existing_image(
    timed: Client, fake: FakeService, tmp_path: Path
) -> None:
    photo = png_file(tmp_path, "a.png", 5_000)
    first = timed.upload(photo)

    again = timed.upload(photo)

    assert again.duplicate
    assert again.image.image_id == first.image.image_id
    assert again.image.duplicate_of == first.image.image_id
    assert len(fake.images) == 1


def test_a_multipart_upload_completes_with_its_etags_then_waits(
    timed: Client, fake: FakeService, tmp_path: Path
) -> None:
    fake.multipart_threshold = 3_000
    fake.processing_polls = 2

    result = timed.upload(png_file(tmp_path, "huge.png", 5_500))

    assert result.route == "multipart"
    (complete,) = fake.requests_to("POST", "/complete")
    assert len(json.loads(complete.content)["parts"]) == 6
    assert polls(fake) == 3
    assert result.image.size_bytes == 5_500


@pytest.fixture
def signed_in(
    cli: FakeService, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> FakeService:
    """The command against the fake, signed in as alice; its waits take no time."""
    made = vars(mpycloud.cli.common)["Client"]  # the cli fixture's, on the fake
    monkeypatch.setattr(mpycloud.cli.common, "Client", functools.partial(made, sleep=no_wait))
    main(["login", "--url", API, "--token", fake_jwt("alice")])
    capsys.readouterr()
    return cli


def no_wait(seconds: float) -> None:
    pass


def test_the_command_says_on_stderr_that_a_file_is_processing(
    signed_in: FakeService, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    signed_in.processing_polls = 2
    big = png_file(tmp_path, "big.png", 4_000)

    code = main(["upload", str(big), "--json"])

    printed = capsys.readouterr()
    summary = json.loads(printed.out)  # stdout: the summary alone, as before
    assert code == 0
    assert (summary["uploaded"], summary["failed"]) == (1, 0)
    (upload_id,) = signed_in.sessions
    lines = [line for line in printed.err.splitlines() if "processing" in line]
    assert lines == [f"{big}: processing at the service (upload {upload_id})…"]


def test_the_command_reports_a_failed_processing_with_its_reason(
    signed_in: FakeService, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    signed_in.failure = SHA_FAILURE

    code = main(["upload", str(png_file(tmp_path, "big.png", 4_000)), "--json", "--no-progress"])

    printed = capsys.readouterr()
    summary = json.loads(printed.out)
    assert code == 1
    assert SHA_FAILURE in summary["files"][0]["reason"]
    assert "processing" not in printed.err  # --no-progress: no processing lines either


def test_the_command_tells_how_to_go_on_waiting_after_its_timeout(
    signed_in: FakeService, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    signed_in.processing_polls = 1_000
    signed_in.retry_after = "0"
    big = png_file(tmp_path, "big.png", 4_000)

    code = main(["upload", str(big), "--json", "--processing-timeout", "0"])

    summary = json.loads(capsys.readouterr().out)
    (upload_id,) = signed_in.sessions
    assert code == 1
    assert upload_id in summary["files"][0]["reason"]
    assert "run the same command again" in summary["files"][0]["reason"]

    signed_in.sessions[upload_id]["polls_left"] = 0
    assert main(["upload", str(big), "--json", "--send-all"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["uploaded"], again["bytes_sent"]) == (1, 0)
    assert len(signed_in.sessions) == 1
