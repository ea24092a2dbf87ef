"""Upload routing: one POST up to the request cap, else a session; multipart sessions resume."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest

from mpycloud import (
    Client,
    FileResumeStore,
    MemoryResumeStore,
    NotAnImage,
    PayloadTooLarge,
    RetryPolicy,
    StorageError,
)
from tests.client.fake_service import API, S3, FakeService, error, form_parts
from tests.client.files import png_file


def test_a_small_file_goes_in_one_post_with_its_fields(
    client: Client, fake: FakeService, tmp_path: Path
) -> None:
    photo = png_file(tmp_path, "small.png", 1_500)
    seen: list[tuple[int, int]] = []

    result = client.upload(
        photo,
        description="Lake",
        tags=["nature", "sunset"],
        metadata={"iso": 200},
        progress=lambda done, total: seen.append((done, total)),
    )

    assert result.route == "direct"
    assert result.sent_bytes == 1_500
    (post,) = fake.requests_at("POST", "/images")
    parts = form_parts(post)
    assert parts["image"] == ("small.png", photo.read_bytes())
    assert json.loads(parts["tags"][1]) == ["nature", "sunset"]
    assert json.loads(parts["metadata"][1]) == {"iso": 200}
    assert parts["description"][1] == b"Lake"
    assert post.headers["Authorization"] == "Bearer secret-token"
    assert seen[-1] == (1_500, 1_500)
    assert fake.sessions == {}


def test_a_larger_file_goes_to_s3_through_a_session_without_the_token(
    client: Client, fake: FakeService, tmp_path: Path
) -> None:
    photo = png_file(tmp_path, "large.png", 5_000)

    result = client.upload(photo, tags=["big"])

    assert result.route == "session"
    assert fake.requests_at("POST", "/images") == []
    (opened,) = fake.requests_at("POST", "/uploads")
    body = json.loads(opened.content)
    assert body["size"] == 5_000
    assert body["content_type"] == "image/png"
    assert len(body["sha256"]) == 64
    assert body["tags"] == ["big"]
    (sent,) = fake.requests_to("POST", S3)
    assert "Authorization" not in sent.headers
    assert list(form_parts(sent)) == ["key", "Content-Type", "file"]
    assert result.image.sha256 == body["sha256"]
    assert result.image.tags == ["big"]


def test_a_413_about_the_request_body_sends_the_file_through_a_session(
    client: Client, fake: FakeService, tmp_path: Path
) -> None:
    # A server whose cap (MAX_REQUEST_BODY) is below the client's threshold.
    fake.fail(
        "POST", "/images", error(413, "The request body is larger than the limit of 1000 bytes")
    )

    result = client.upload(png_file(tmp_path, "a.png", 1_500))

    assert result.route == "session"
    assert len(fake.images) == 1


def test_a_gateways_own_413_sends_the_file_through_a_session_too(
    client: Client, fake: FakeService, tmp_path: Path
) -> None:
    fake.fail("POST", "/images", httpx.Response(413, json={"message": "Request Entity Too Large"}))

    assert client.upload(png_file(tmp_path, "a.png", 1_500)).route == "session"


def test_a_413_about_the_file_itself_is_raised(
    client: Client, fake: FakeService, tmp_path: Path
) -> None:
    fake.fail(
        "POST", "/images", error(413, "The image has 200000000 pixels; the limit is 50000000")
    )

    with pytest.raises(PayloadTooLarge, match="pixels"):
        client.upload(png_file(tmp_path, "a.png", 1_500))
    assert fake.sessions == {}


def test_a_file_that_is_no_image_is_refused_before_a_session_opens(
    client: Client, fake: FakeService, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"x" * 5_000)

    with pytest.raises(NotAnImage):
        client.upload(notes)
    assert fake.seen == []


def test_a_duplicate_answer_is_a_result_not_an_error(
    client: Client, fake: FakeService, tmp_path: Path
) -> None:
    photo = png_file(tmp_path, "a.png", 800)
    first = client.upload(photo)

    again = client.upload(photo)

    assert again.duplicate
    assert again.image.image_id == first.image.image_id


def test_a_multipart_upload_puts_each_part_and_completes_with_their_etags(
    client: Client, fake: FakeService, tmp_path: Path
) -> None:
    fake.multipart_threshold = 3_000
    photo = png_file(tmp_path, "huge.png", 2_500 + 3_000)

    result = client.upload(photo)

    assert result.route == "multipart"
    puts = fake.requests_to("PUT", S3)
    assert [len(p.content) for p in puts] == [1000] * 5 + [500]
    assert b"".join(p.content for p in puts) == photo.read_bytes()
    assert all(int(p.headers["Content-Length"]) == len(p.content) for p in puts)
    (complete,) = fake.requests_to("POST", "/complete")
    assert [p["part_number"] for p in json.loads(complete.content)["parts"]] == [1, 2, 3, 4, 5, 6]
    assert result.image.size_bytes == 5_500


def test_an_interrupted_multipart_upload_resumes_with_the_missing_parts_only(
    fake: FakeService, tmp_path: Path
) -> None:
    fake.multipart_threshold = 3_000
    photo = png_file(tmp_path, "huge.png", 5_500)
    resume = MemoryResumeStore()
    options: dict[str, Any] = {
        "transport": fake.transport(),
        "direct_upload_limit": 2_000,
        "resume": resume,
    }
    # GIVEN a first run that stopped at part 4 (S3 kept failing it)
    fake.fail("PUT", "/4?", httpx.Response(500, text="<Error>InternalError</Error>"), times=2)
    with (
        Client(
            API, token="t", retry=RetryPolicy(attempts=2), sleep=lambda s: None, **options
        ) as first,
        pytest.raises(StorageError),
    ):
        first.upload(photo)
    assert sorted(next(iter(fake.sessions.values()))["parts"]) == [1, 2, 3]

    # WHEN the upload runs again (a new client, the same resume store)
    fake.seen.clear()
    with Client(API, token="t", **options) as second:
        result = second.upload(photo)

    # THEN only parts 4 to 6 were sent, to re-signed URLs, and the session completed
    assert result.resumed
    assert result.sent_bytes == 2_500
    assert [p.url.path for p in fake.requests_to("PUT", S3)] == [
        f"/part/{result_id}/{n}" for result_id in fake.sessions for n in (4, 5, 6)
    ]
    assert json.loads(fake.requests_to("POST", "/parts")[0].content) == {"part_numbers": [4, 5, 6]}
    assert fake.requests_at("POST", "/uploads") == []
    assert len(fake.images) == 1
    assert next(iter(fake.images.values()))["size_bytes"] == 5_500
    assert len(resume) == 0


def test_a_session_that_expired_meanwhile_starts_over(
    client: Client, fake: FakeService, resume: MemoryResumeStore, tmp_path: Path
) -> None:
    fake.multipart_threshold = 3_000
    photo = png_file(tmp_path, "huge.png", 4_000)
    fake.fail("PUT", "/2?", httpx.Response(500, text="<Error/>"), times=4)
    with pytest.raises(StorageError):
        client.upload(photo)
    fake.fail("GET", "/uploads/", error(410, "Upload expired"))

    result = client.upload(photo)

    assert not result.resumed
    assert len(fake.sessions) == 2
    assert len(fake.images) == 1


def test_resume_entries_are_kept_in_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "state" / "uploads.json"
    FileResumeStore(path).put("key", "UP1")

    assert FileResumeStore(path).get("key") == "UP1"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    FileResumeStore(path).forget("key")
    assert FileResumeStore(path).get("key") is None
