"""The gallery as a viewer meets it in a real browser (tests/integration/browser.py): a delete
that asks first, the camera named once, capture times in the viewer's own time zone, and a
grid of at least three columns on a phone. No script error or CSP violation on the way.
Screenshots of the phone's grid and of the delete's question go to test-output/browser/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from tests.integration.browser import (
    browser_page,
    gradient_jpeg,
    problems_of,
    sign_in,
    signed_in_gallery,
)
from tests.integration.processes import ROOT, Stack
from tests.support.camera_jpegs import camera_jpeg

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.xdist_group("integration")]

OUTPUT = ROOT / "test-output" / "browser"
PHONE = {"width": 375, "height": 740}  # CSS pixels of a common phone, held upright


@pytest.fixture(scope="module")
def stack(moto_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("gallery-photo")
    with signed_in_gallery(moto_server, folder, ("carol",)) as stack:
        yield stack


def upload(stack: Stack, data: bytes, name: str) -> str:
    token = stack.run("dev-token", "carol").stdout.strip()
    sent = requests.post(
        f"{stack.base_url}/images",
        files={"image": (name, data, "image/jpeg")},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert sent.status_code in (200, 201), sent.text  # 200: the same bytes, uploaded before
    image_id: str = sent.json()["image_id"]
    return image_id


def test_deleting_asks_before_it_deletes(stack: Stack, tmp_path: Path) -> None:
    image_id = upload(stack, gradient_jpeg((64, 48), "white", "navy"), "doomed.jpg")
    with browser_page(tmp_path / "profile") as page:
        problems = problems_of(page)
        sign_in(page, stack.base_url, "carol")
        page.goto(f"{stack.base_url}/photos/{image_id}")

        # WHEN the delete button is pressed, THEN nothing is deleted: it asks first
        page.click("#delete")
        confirm = page.locator("#delete-confirm")
        expect(confirm).to_be_visible()
        expect(page).to_have_url(f"{stack.base_url}/photos/{image_id}")
        OUTPUT.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(OUTPUT / "delete-asks.png"), full_page=True)
        photo = page.request.get(f"{stack.base_url}/photos/{image_id}")
        assert photo.status == 200

        # WHEN the deletion is confirmed, THEN it is gone
        confirm.click()
        expect(page).to_have_url(f"{stack.base_url}/")
        assert page.request.get(f"{stack.base_url}/photos/{image_id}").status == 404
        assert problems == []


@pytest.mark.parametrize(
    ("zone", "locale", "shown"),
    [
        # Taken at 07:08:09 at UTC+02:00: 05:08 UTC.
        ("America/New_York", "en-US", ["May 6, 2024", "1:08"]),
        ("Asia/Tokyo", "en-GB", ["6 May 2024", "14:08"]),
    ],
)
def test_the_camera_is_named_once_and_the_capture_time_is_the_viewers(
    stack: Stack, tmp_path: Path, zone: str, locale: str, shown: list[str]
) -> None:
    data = camera_jpeg(make="Canon", model="Canon EOS R5", taken="2024:05:06 07:08:09")
    image_id = upload(stack, data, "camera.jpg")
    with browser_page(tmp_path / "profile", timezone_id=zone, locale=locale) as page:
        problems = problems_of(page)
        sign_in(page, stack.base_url, "carol")
        page.goto(f"{stack.base_url}/photos/{image_id}")

        camera = page.locator("#exif dt:text-is('Camera') + dd")
        expect(camera).to_have_text("Canon EOS R5")
        taken = page.locator("#exif dt:text-is('Taken') + dd time")
        for part in shown:
            expect(taken).to_contain_text(part)
        assert problems == []


def test_a_phone_shows_the_grid_in_three_columns_at_least(stack: Stack, tmp_path: Path) -> None:
    for number in range(4):
        upload(stack, gradient_jpeg((64, 48), "white", f"#{40 * number:02x}4080"), f"{number}.jpg")
    with browser_page(tmp_path / "profile", viewport=PHONE, is_mobile=True) as page:
        problems = problems_of(page)
        sign_in(page, stack.base_url, "carol")
        page.goto(f"{stack.base_url}/?user_id=carol")
        tiles = page.locator("#grid .tile")
        expect(tiles.nth(3)).to_be_visible()

        lefts = page.eval_on_selector_all(
            "#grid .tile", "tiles => tiles.map(t => Math.round(t.getBoundingClientRect().left))"
        )
        assert len(set(lefts)) >= 3, lefts
        OUTPUT.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(OUTPUT / "phone-grid.png"))
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert problems == []
