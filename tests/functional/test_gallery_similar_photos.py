"""An image's page lists the viewer's similar photos (resized or re-encoded copies, found by
the worker's perceptual hash) as the grid's tiles, each linking to its page; none, no
section."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from tests.functional.test_similar_images import encoded, photo
from tests.support.gallery import get, jwt_settings, published, sign_in
from tests.support.jobs import run_jobs


def similar_section(html: str) -> str | None:
    found = re.search(r'<section class="similar".*?</section>', html, re.DOTALL)
    return found.group(0) if found else None


def tile_ids(html: str) -> list[str]:
    return re.findall(r'<li class="tile">\s*<a [^>]*href="/photos/([0-9A-Z]{26})"', html)


def test_the_page_of_a_photo_shows_its_resized_copy_under_similar_photos(
    gallery: Flask, browser: FlaskClient
) -> None:
    original = published(gallery, "alice", encoded(photo(11), quality=92))
    copy = published(gallery, "alice", encoded(photo(11).resize((320, 240)), "WEBP", quality=60))
    unrelated = published(gallery, "alice", encoded(photo(12), quality=92))
    run_jobs(jwt_settings())
    sign_in(browser, "alice")

    html = get(browser, f"/photos/{original}").get_data(as_text=True)

    section = similar_section(html)
    assert section is not None, "no similar photos on the page"
    assert '<h2 id="similar-heading">Similar photos</h2>' in section
    assert tile_ids(section) == [copy]
    assert f'data-image-id="{copy}"' in section
    assert f"/photos/{copy}/rendition/" in section
    assert unrelated not in html
    # the copy's page finds the original back
    back = similar_section(get(browser, f"/photos/{copy}").get_data(as_text=True))
    assert back is not None
    assert tile_ids(back) == [original]


def test_a_photo_like_no_other_has_no_similar_photos_section(
    gallery: Flask, browser: FlaskClient
) -> None:
    alone = published(gallery, "alice", encoded(photo(13), quality=90))
    run_jobs(jwt_settings())
    sign_in(browser, "alice")

    page = get(browser, f"/photos/{alone}")

    assert page.status_code == 200
    assert similar_section(page.get_data(as_text=True)) is None
    assert "Similar photos" not in page.get_data(as_text=True)


def test_someone_elses_copy_is_not_among_the_viewers_similar_photos(
    gallery: Flask, browser: FlaskClient
) -> None:
    mine = published(gallery, "alice", encoded(photo(14), quality=92))
    theirs = published(gallery, "bob", encoded(photo(14), quality=80))
    run_jobs(jwt_settings())
    sign_in(browser, "alice")

    html = get(browser, f"/photos/{mine}").get_data(as_text=True)

    assert similar_section(html) is None
    assert theirs not in html
