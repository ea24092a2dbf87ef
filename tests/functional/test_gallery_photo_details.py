"""An image's page as the server renders it: the camera named once, capture and upload times
readable (with the ISO moment the page's script shows in the viewer's time zone), and a delete
that asks first."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from tests.support.camera_jpegs import camera_jpeg
from tests.support.gallery import get, published, sign_in


def page_of(gallery: Flask, browser: FlaskClient, data: bytes) -> str:
    image_id = published(gallery, "alice", data)
    sign_in(browser, "alice")
    return get(browser, f"/photos/{image_id}").get_data(as_text=True)


def detail(html: str, name: str) -> str:
    found = re.search(rf"<dt>{name}</dt><dd[^>]*>(.*?)</dd>", html, re.DOTALL)
    assert found, f"no {name} on the page"
    return found.group(1).strip()


class TestCamera:
    def test_a_model_that_starts_with_the_make_names_it_once(
        self, gallery: Flask, browser: FlaskClient
    ) -> None:
        html = page_of(gallery, browser, camera_jpeg(make="Canon", model="Canon EOS R5"))

        assert detail(html, "Camera") == "Canon EOS R5"

    def test_other_models_follow_their_make(self, gallery: Flask, browser: FlaskClient) -> None:
        html = page_of(gallery, browser, camera_jpeg(make="FUJIFILM", model="X100V"))

        assert detail(html, "Camera") == "FUJIFILM X100V"


class TestTimes:
    def test_a_capture_time_reads_as_words_with_its_moment_for_the_script(
        self, gallery: Flask, browser: FlaskClient
    ) -> None:
        html = page_of(gallery, browser, camera_jpeg(taken="2024:05:06 07:08:09", offset="+02:00"))

        assert detail(html, "Taken") == (
            '<time datetime="2024-05-06T07:08:09+02:00">6 May 2024, 07:08 UTC+02:00</time>'
        )

    def test_a_capture_time_without_a_zone_is_the_cameras_clock(
        self, gallery: Flask, browser: FlaskClient
    ) -> None:
        html = page_of(gallery, browser, camera_jpeg(taken="2024:12:31 23:59:30", offset=None))

        assert detail(html, "Taken") == (
            '<time datetime="2024-12-31T23:59:30">31 Dec 2024, 23:59</time>'
        )

    def test_the_upload_time_reads_as_words_in_utc(
        self, gallery: Flask, browser: FlaskClient
    ) -> None:
        html = page_of(gallery, browser, camera_jpeg())

        uploaded = detail(html, "Uploaded")
        assert re.fullmatch(
            r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00">'
            r"\d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d UTC</time>",
            uploaded,
        ), uploaded


def test_deleting_asks_first(gallery: Flask, browser: FlaskClient) -> None:
    html = page_of(gallery, browser, camera_jpeg())

    # The delete button is inside a disclosure that the first click opens.
    disclosure = re.search(r'<details class="delete">(.*?)</details>', html, re.DOTALL)
    assert disclosure, "no delete disclosure"
    assert '<summary id="delete">' in disclosure.group(1)
    assert 'id="delete-confirm"' in disclosure.group(1)
    assert html.count('type="submit" class="danger"') == 1
