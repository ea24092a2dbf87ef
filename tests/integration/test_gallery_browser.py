"""The gallery in a real browser (tests/integration/browser.py), signed in through the
sign-in form: upload (processed by the service's worker, a process of its own), browse, edit,
delete, sign out; the grid's infinite scroll. Screenshots of the grid and of an image's page go
to test-output/browser/."""

from __future__ import annotations

import base64
import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import blurhash
import pytest
import requests
from PIL import Image as PILImage
from playwright.sync_api import Page, expect

from devtools.dev_tokens import DEV_PASSWORD
from tests.integration.browser import (
    browser_page,
    gradient_jpeg,
    problems_of,
    sign_in,
    signed_in_gallery,
)
from tests.integration.processes import ROOT, Stack, stop

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.xdist_group("integration")]

OUTPUT = ROOT / "test-output" / "browser"
MIB = 1024 * 1024
SIGN_IN_COOKIE = "__Host-mpycloud-sign-in"


@pytest.fixture(scope="module")
def stack(moto_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """gunicorn with sign-in on, trusting moto's Cognito pool, which has the users alice and
    bob (their password: DEV_PASSWORD)."""
    with (
        signed_in_gallery(
            moto_server,
            tmp_path_factory.mktemp("gallery"),
            ("alice", "bob"),
            # One of the three uploads is above the threshold: the page sends it in parts.
            MULTIPART_THRESHOLD=str(5 * MIB),
            MAX_FILE_SIZE=str(16 * MIB),
            GUNICORN_WORKERS="2",
            GUNICORN_THREADS="4",
        ) as stack,
        working(stack),
    ):
        yield stack


@contextmanager
def working(stack: Stack) -> Iterator[None]:
    """The stack's worker (``python -m service worker``), which processes the uploads the page
    completes; its output in worker.log beside the stack's."""
    with stack.log.with_name("worker.log").open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "service", "worker"],
            env={**stack.env, "WORKER_WAIT_SECONDS": "1"},
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        try:
            yield
        finally:
            stop(process)


@pytest.fixture(scope="module")
def gallery(stack: Stack) -> str:
    return stack.base_url


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    with browser_page(tmp_path / "profile") as page:  # a fresh profile for every test
        yield page


def noise_png(size: tuple[int, int]) -> bytes:
    """A PNG that does not compress: about 3 bytes a pixel."""
    buffer = io.BytesIO()
    PILImage.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(buffer, "PNG")
    return buffer.getvalue()


def drop(page: Page, files: list[tuple[str, bytes, str]]) -> None:
    """Drag ``files`` (name, bytes, type) from the desktop onto the drop zone."""
    payload = [
        {"name": name, "type": kind, "data": base64.b64encode(data).decode()}
        for name, data, kind in files
    ]
    transfer = page.evaluate_handle(
        """files => {
            const transfer = new DataTransfer();
            for (const file of files) {
                const bytes = Uint8Array.from(atob(file.data), c => c.charCodeAt(0));
                transfer.items.add(new File([bytes], file.name, {type: file.type}));
            }
            return transfer;
        }""",
        payload,
    )
    for event in ("dragenter", "dragover", "drop"):
        page.dispatch_event("#dropzone", event, {"dataTransfer": transfer})


def test_sign_in_upload_browse_edit_delete_sign_out(gallery: str, page: Page) -> None:
    problems = problems_of(page)
    OUTPUT.mkdir(parents=True, exist_ok=True)

    # 1. sign in: the gallery sends a visitor to the form, the form back to the gallery
    page.goto(f"{gallery}/")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=/$"))
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", DEV_PASSWORD)
    page.click("form.sign-in button[type=submit]")
    expect(page.locator("#viewer")).to_have_text("alice")
    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    session = cookies[SIGN_IN_COOKIE]
    assert (session["httpOnly"], session["secure"], session["sameSite"]) == (True, True, "Lax")
    assert page.evaluate("document.cookie") == ""  # no script can read either cookie

    # 2. upload three images by drag and drop, each with its own progress bar; each is done
    # once the worker has processed it (a process of its own, with the suite's others running)
    page.fill("#upload-tags", "beach")
    drop(page, [("red.jpg", gradient_jpeg((640, 480), "orange", "darkred"), "image/jpeg")])
    expect(page.locator("#uploads li.done")).to_have_count(1, timeout=30_000)
    big = noise_png((1400, 1400))
    assert big.__len__() > 5 * MIB  # above the threshold: sent as multipart PUTs
    drop(page, [("noise.png", big, "image/png")])
    expect(page.locator("#uploads li.done")).to_have_count(2, timeout=60_000)
    page.fill("#upload-tags", "city")
    drop(page, [("green.jpg", gradient_jpeg((480, 640), "yellowgreen", "teal"), "image/jpeg")])
    expect(page.locator("#uploads li.done")).to_have_count(3, timeout=30_000)
    bars: list[Any] = page.eval_on_selector_all(
        "#uploads progress", "bars => bars.map(bar => [bar.value, bar.max])"
    )
    assert len(bars) == 3
    assert all(value == maximum > 0 for value, maximum in bars)

    # 3. see them in the grid, newest first, painted from their BlurHash, then loaded
    page.goto(f"{gallery}/")
    tiles = page.locator("#grid .tile")
    expect(tiles).to_have_count(3)
    expect(page.locator("#grid .placeholder.loaded")).to_have_count(3)
    names = page.eval_on_selector_all("#grid img", "images => images.map(i => i.alt)")
    assert names == ["green.jpg", "noise.png", "red.jpg"]
    hashes = page.eval_on_selector_all(
        "#grid .placeholder",
        "tiles => tiles.map(t => [t.dataset.blurhash, t.style.backgroundImage])",
    )
    painted = [(found, style) for found, style in hashes if found]
    assert len(painted) == 3  # the worker made each one, the multipart upload's too
    assert all(style.startswith('url("data:image/png') for _, style in painted)
    # The page's decoder agrees with the Python one that made the hashes.
    in_page = page.evaluate("h => Array.from(blurhashDecode(h, 4, 3))", painted[0][0])
    reference = [
        channel
        for row in blurhash.decode(painted[0][0], 4, 3)
        for pixel in row
        for channel in [*pixel, 255]
    ]
    assert max(abs(a - b) for a, b in zip(in_page, reference, strict=True)) <= 1
    page.screenshot(path=str(OUTPUT / "grid.png"), full_page=True)

    # 4. filter by a tag: the filter is in the URL
    page.fill("form.filters input[name=tags]", "city")
    page.click("form.filters button[type=submit]")
    expect(page).to_have_url(re.compile(r"/\?tags=city"))
    expect(tiles).to_have_count(1)

    # 5. open it and edit its tags
    tiles.first.locator("a").click()
    expect(page.locator("h1")).to_have_text("green.jpg")
    expect(page.locator("figure.placeholder.loaded")).to_have_count(1)
    assert page.locator("#exif").count() == 0  # a generated JPEG records no camera
    page.screenshot(path=str(OUTPUT / "image-page.png"), full_page=True)
    href = page.locator("#download").get_attribute("href")
    download = page.request.get(f"{gallery}{href}", max_redirects=0)
    assert download.status == 302
    assert download.headers["location"].startswith("http://127.0.0.1")
    page.fill("form.edit-tags input[name=tags]", "City, night")
    page.click("form.edit-tags button[type=submit]")
    expect(page.locator("#tags li")).to_have_text(["city", "night"])

    # 6. delete it, and confirm: back on the grid, two images left
    page.click("#delete")
    page.click("#delete-confirm")
    expect(page).to_have_url(f"{gallery}/")
    expect(tiles).to_have_count(2)

    # 7. sign out: the cookie is gone and the gallery asks to sign in again
    page.click("#sign-out")
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    assert SIGN_IN_COOKIE not in {cookie["name"] for cookie in page.context.cookies()}
    page.goto(f"{gallery}/")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=/$"))

    # No script error and no Content-Security-Policy violation on the way.
    assert problems == []


def test_the_grid_loads_more_tiles_as_it_scrolls(stack: Stack, page: Page) -> None:
    # GIVEN 30 images of bob's, uploaded through the API
    token = stack.run("dev-token", "bob").stdout.strip()
    for number in range(30):
        sent = requests.post(
            f"{stack.base_url}/images",
            files={
                "image": (
                    f"{number}.jpg",
                    gradient_jpeg((64, 48), "white", f"#{8 * number:02x}2060"),
                )
            },
            data={"description": f"number {number}"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert sent.status_code in (200, 201), sent.text
    sign_in(page, stack.base_url, "bob")

    # WHEN the grid of bob's images is scrolled to its end, in a window so low that its
    # "More" link starts far below the fold (further than the 600 px the script looks ahead)
    page.set_viewport_size({"width": 1280, "height": 240})
    page.goto(f"{stack.base_url}/?user_id=bob")
    tiles = page.locator("#grid .tile")
    expect(tiles).to_have_count(24)
    page.mouse.wheel(0, 20_000)

    # THEN the next page's tiles are appended, and there is no further page
    expect(tiles).to_have_count(30)
    expect(page.locator("#more")).to_have_count(0)
    alts = page.eval_on_selector_all("#grid img", "images => images.map(i => i.alt)")
    assert alts == [f"number {n}" for n in reversed(range(30))]
