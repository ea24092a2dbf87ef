"""Each endpoint's request as the API documents it, and its answer as a dataclass."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from mpycloud import Client, Image, PreconditionFailed
from tests.client.fake_service import API, error

IMAGE: dict[str, Any] = {
    "image_id": "01M89RYH9AZSDRTHGHBWK809HV",
    "version": 3,
    "user_id": "user123",
    "description": "My photo",
    "tags": ["nature"],
    "metadata": {"iso": 200},
    "content_type": "image/jpeg",
    "size_bytes": 5429,
    "width": 640,
    "height": 480,
    "sha256": "45ba" * 16,
    "original_filename": "photo.jpg",
    "status": "READY",
    "created_at": "2026-11-25T16:34:46.186962+00:00",
    "updated_at": "2026-11-25T16:34:46.186962+00:00",
    "renditions": [{"size": 256, "format": "jpeg", "width": 256, "height": 192}],
    "blurhash": "LEHV6nWB2yk8pyo0adR*.7kCMdnj",
}


class Recorder:
    """Answers each request with the next canned answer, and keeps the requests."""

    def __init__(self, *answers: httpx.Response) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return self.answers.pop(0)

    def client(self) -> Client:
        return Client(API, token="tok", transport=httpx.MockTransport(self))


def query(request: httpx.Request) -> dict[str, list[str]]:
    return parse_qs(request.url.query.decode())


def test_list_images_sends_the_filters_and_answers_dataclasses() -> None:
    recorder = Recorder(httpx.Response(200, json={"items": [IMAGE], "next_cursor": "c2"}))

    page = recorder.client().list_images(
        user_id="user123",
        tags=["nature", "lake"],
        content_type="image/jpeg",
        date_from=date(2026, 11, 1),
        date_to="2026-11-30",
        limit=50,
    )

    assert query(recorder.requests[0]) == {
        "user_id": ["user123"],
        "tags": ["nature,lake"],
        "content_type": ["image/jpeg"],
        "date_from": ["2026-11-01"],
        "date_to": ["2026-11-30"],
        "limit": ["50"],
    }
    (image,) = page.items
    assert isinstance(image, Image)
    assert image.created_at == datetime(2026, 11, 25, 16, 34, 46, 186962, tzinfo=UTC)
    assert image.renditions[0].size == 256
    assert image.raw == IMAGE
    assert page.next_cursor == "c2"


def test_iter_images_follows_cursors_through_short_pages() -> None:
    second = IMAGE | {"image_id": "01M89RYH9AZSDRTHGHBWK809HW"}
    recorder = Recorder(
        httpx.Response(200, json={"items": [IMAGE], "next_cursor": "c2"}),
        httpx.Response(200, json={"items": [], "next_cursor": "c3"}),
        httpx.Response(200, json={"items": [second], "next_cursor": None}),
    )

    images = list(recorder.client().iter_images(tags=["a", "b"]))

    assert [i.image_id for i in images] == [IMAGE["image_id"], second["image_id"]]
    assert [query(r).get("cursor") for r in recorder.requests] == [None, ["c2"], ["c3"]]


def test_ids_and_batches_go_100_at_a_time() -> None:
    ids = [f"01M89RYH9AZSDRTHGHBWK8{n:04d}" for n in range(150)]
    ok = [{"image_id": i, "result": "ok", "message": None} for i in ids]
    recorder = Recorder(
        httpx.Response(200, json={"items": [IMAGE], "next_cursor": None}),
        httpx.Response(200, json={"items": [], "next_cursor": None}),
        httpx.Response(200, json={"results": ok[:100]}),
        httpx.Response(200, json={"results": ok[100:]}),
    )
    client = recorder.client()

    assert len(client.get_images(ids)) == 1
    results = client.add_tags(ids, ["a"])

    first, second = (query(r)["ids"][0].split(",") for r in recorder.requests[:2])
    assert (len(first), len(second)) == (100, 50)
    bodies = [json.loads(r.content) for r in recorder.requests[2:]]
    assert [len(b["ids"]) for b in bodies] == [100, 50]
    assert bodies[0]["action"] == "add_tags"
    assert bodies[0]["tags"] == ["a"]
    assert len(results) == 150
    assert all(r.ok for r in results)


def test_delete_images_sends_no_tags_and_reports_each_result() -> None:
    recorder = Recorder(
        httpx.Response(
            200,
            json={"results": [{"image_id": "x", "result": "forbidden", "message": "not yours"}]},
        )
    )

    (result,) = recorder.client().delete_images(["x"])

    assert json.loads(recorder.requests[0].content) == {"action": "delete", "ids": ["x"]}
    assert (result.ok, result.result, result.message) == (False, "forbidden", "not yours")


def test_get_then_update_with_if_match() -> None:
    changed = IMAGE | {"tags": ["lake"], "version": 4}
    recorder = Recorder(
        httpx.Response(200, json=IMAGE, headers={"ETag": '"3"'}),
        httpx.Response(200, json=changed, headers={"ETag": '"4"'}),
        error(412, "The image changed: version 4"),
    )
    client = recorder.client()

    image = client.get_image(IMAGE["image_id"])
    updated = client.update_image(image.image_id, tags=["lake"], if_match=image.etag)

    patch = recorder.requests[1]
    assert patch.method == "PATCH"
    assert patch.headers["If-Match"] == '"3"'
    assert json.loads(patch.content) == {"tags": ["lake"]}
    assert (updated.tags, updated.etag) == (["lake"], '"4"')
    with pytest.raises(PreconditionFailed):
        client.update_image(image.image_id, description="x", if_match=image.etag)


def test_links_and_health() -> None:
    recorder = Recorder(
        httpx.Response(200, json={"download_url": "http://s3.test/o", "expires_in": 900}),
        httpx.Response(
            200,
            json={
                "url": "http://s3.test/r",
                "expires_in": 900,
                "width": 256,
                "height": 192,
                "format": "webp",
            },
        ),
        httpx.Response(200, json={"status": "ready", "warnings": ["AUTH_MODE=none"]}),
    )
    client = recorder.client()

    assert client.download_link("i").download_url == "http://s3.test/o"
    thumbnail = client.thumbnail("i", size=256, format="webp")
    assert (thumbnail.format, thumbnail.width) == ("webp", 256)
    assert query(recorder.requests[1]) == {
        "redirect": ["false"],
        "format": ["webp"],
        "size": ["256"],
    }
    assert client.ready().warnings == ["AUTH_MODE=none"]


def test_download_writes_the_bytes_under_the_name_s3_gives(tmp_path: Path) -> None:
    disposition = "attachment; filename=\"caf_.jpg\"; filename*=UTF-8''caf%C3%A9.jpg"
    recorder = Recorder(
        httpx.Response(200, json={"download_url": "http://s3.test/o?sig=1", "expires_in": 900}),
        httpx.Response(200, content=b"bytes!", headers={"Content-Disposition": disposition}),
    )
    progress: list[tuple[int, int]] = []

    saved = recorder.client().download("i", tmp_path, progress=lambda d, t: progress.append((d, t)))

    assert saved == tmp_path / "café.jpg"
    assert saved.read_bytes() == b"bytes!"
    assert "Authorization" not in recorder.requests[1].headers
    assert progress[-1] == (6, 6)
    assert [p.name for p in tmp_path.iterdir()] == ["café.jpg"]


def test_a_token_change_applies_to_the_next_request() -> None:
    recorder = Recorder(*[httpx.Response(200, json={"status": "ok"}) for _ in range(2)])
    client = recorder.client()

    client.health()
    client.token = None
    client.health()

    assert recorder.requests[0].headers["Authorization"] == "Bearer tok"
    assert "Authorization" not in recorder.requests[1].headers
