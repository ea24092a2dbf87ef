"""The page's uploads while the service processes them, in a real browser
(tests/integration/browser.py): a processing tile, first in the grid, until the session is READY,
then the image's tile in its place; on FAILED the service's reason, on the tile and on the file's
row. The session is opened and the bytes are sent to S3 for real; the gallery's answers to
``complete`` and to the watch (``GET /photo-uploads/{id}``) are played by the test, so that the
page meets each status on cue. A screenshot of the processing tile goes to test-output/browser/.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import FilePayload, Page, Route, expect

from tests.integration.browser import (
    browser_page,
    gradient_jpeg,
    problems_of,
    sign_in,
    signed_in_gallery,
)
from tests.integration.processes import ROOT, Stack

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.xdist_group("integration")]

OUTPUT = ROOT / "test-output" / "browser"
IMAGE_ID = "01M9ZZZZZZZZZZZZZZZZZZZZZZ"
PIXEL = "data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="
TILE = (
    f'<li class="tile"><a class="placeholder" href="/photos/{IMAGE_ID}" data-blurhash=""'
    f' data-color="#336699" data-image-id="{IMAGE_ID}"><img src="{PIXEL}" alt="lake.jpg"></a></li>'
)
FAILURE = "The bytes' SHA-256 is 5e3b9c, not the declared one"
UPLOAD = re.compile(r"/photo-uploads/([0-9A-Z]{26})(/complete)?$")


@pytest.fixture(scope="module")
def stack(moto_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("gallery-upload")
    with signed_in_gallery(moto_server, folder, ("dora",)) as stack:
        yield stack


@pytest.fixture
def page(stack: Stack, tmp_path: Path) -> Iterator[Page]:
    with browser_page(tmp_path / "profile") as page:
        sign_in(page, stack.base_url, "dora")
        yield page


class Processing:
    """The gallery's answers about uploads, played: ``complete`` answers PROCESSING (202, with
    Location and Retry-After: 1); the watch answers PROCESSING until ``outcome`` is set, then
    the session with it. ``watched`` holds the moments of the watch's requests."""

    def __init__(self, page: Page) -> None:
        self.outcome: dict[str, Any] | None = None
        self.watched: list[float] = []
        page.route(UPLOAD, self._answer)

    def _answer(self, route: Route) -> None:
        found = UPLOAD.search(route.request.url)
        assert found is not None
        upload_id, completing = found.group(1), found.group(2)
        session = {"upload_id": upload_id, "status": "PROCESSING"}
        watch = {"Location": f"/photo-uploads/{upload_id}", "Retry-After": "1"}
        if completing:
            route.fulfill(status=202, json=session, headers=watch)
            return
        self.watched.append(time.monotonic())
        if self.outcome is None:
            route.fulfill(status=200, json=session, headers=watch)
        else:
            route.fulfill(status=200, json=session | self.outcome)

    def wait_for_watches(self, page: Page, count: int) -> None:
        deadline = time.monotonic() + 15
        while len(self.watched) < count and time.monotonic() < deadline:
            page.wait_for_timeout(100)  # the page's requests are answered meanwhile
        assert len(self.watched) >= count


def choose(page: Page, name: str) -> None:
    data = gradient_jpeg((320, 240), "skyblue", "navy")
    page.set_input_files(
        "#file-input", files=FilePayload(name=name, mimeType="image/jpeg", buffer=data)
    )


def test_a_processing_tile_stands_first_in_the_grid_until_the_image_is_ready(
    stack: Stack, page: Page
) -> None:
    problems = problems_of(page)
    processing = Processing(page)
    page.goto(f"{stack.base_url}/")

    # WHEN a file is chosen and its bytes are in
    choose(page, "lake.jpg")

    # THEN a processing tile stands first in the grid while the service processes it
    pending = page.locator("#grid .tile").first
    expect(pending).to_have_class(re.compile(r"\bprocessing\b"))
    expect(pending.locator("[role=status]")).to_contain_text("lake.jpg")
    expect(pending.locator("[role=status]")).to_contain_text("Processing")
    expect(page.locator("#uploads li .status")).to_have_text("processing")
    expect(page.locator(".empty")).to_be_hidden()  # "No images." no more
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / "processing-tile.png"), full_page=True)
    # AND the page asks again as the answers' Retry-After says (1 s)
    processing.wait_for_watches(page, 3)
    gaps = [b - a for a, b in zip(processing.watched, processing.watched[1:], strict=False)]
    assert min(gaps) >= 0.8

    # WHEN the service is done, THEN the image's tile takes the processing tile's place
    processing.outcome = {"status": "READY", "image_id": IMAGE_ID, "duplicate": False, "tile": TILE}
    expect(page.locator("#grid .tile.pending")).to_have_count(0)
    expect(page.locator("#grid .tile").first.locator("a")).to_have_attribute(
        "data-image-id", IMAGE_ID
    )
    expect(page.locator("#uploads li.done .status")).to_have_text("done")
    assert problems == []


def test_an_upload_the_service_refuses_says_why(stack: Stack, page: Page) -> None:
    problems = problems_of(page)
    processing = Processing(page)
    page.goto(f"{stack.base_url}/")

    choose(page, "broken.jpg")
    expect(page.locator("#grid .tile.processing")).to_have_count(1)
    processing.outcome = {"status": "FAILED", "failure": FAILURE}

    alert = page.locator("#grid .tile.failed [role=alert]")
    expect(alert).to_contain_text(f"Upload failed: {FAILURE}")
    expect(alert).to_contain_text("broken.jpg")
    expect(page.locator("#uploads li.failed .status")).to_have_text(f"failed: {FAILURE}")
    expect(page.locator("#grid .tile.processing")).to_have_count(0)
    assert problems == []


def test_a_heic_file_the_browser_gives_no_type_is_declared_by_its_name(
    stack: Stack, page: Page
) -> None:
    opened: list[Any] = []

    def refuse(route: Route) -> None:
        opened.append(route.request.post_data_json)
        body = {"code": 415, "status": "Unsupported Media Type", "message": "Not taken here"}
        route.fulfill(status=415, json=body)

    page.route(re.compile(r"/photo-uploads$"), refuse)
    page.goto(f"{stack.base_url}/")

    # A File without a type, as browsers that do not know HEIC give it (dropped on the zone)
    transfer = page.evaluate_handle(
        """() => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([new Uint8Array(64)], "IMG_0001.HEIC", {type: ""}));
            return transfer;
        }"""
    )
    assert page.evaluate("t => t.files[0].type", transfer) == ""
    page.dispatch_event("#dropzone", "drop", {"dataTransfer": transfer})

    expect(page.locator("#uploads li.failed .status")).to_have_text("failed: Not taken here")
    assert [body["content_type"] for body in opened] == ["image/heic"]
