"""The gallery's pages over HTTP (Flask test client, moto's in-process S3 + DynamoDB + SQS):
what owners and others see and may do, the grid's filters and cursor pages, upload sessions and
their processing by the worker (its jobs run here by ``run_jobs``)."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import boto3
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.support.gallery import (
    csrf_of,
    get,
    jwt_settings,
    post,
    published,
    sign_in,
)
from tests.support.images import jpeg, sideways_jpeg
from tests.support.jobs import run_jobs


class TestImagePages:
    def test_the_owner_sees_location_and_may_delete(
        self, gallery: Flask, browser: FlaskClient
    ) -> None:
        image_id = published(gallery, "alice", sideways_jpeg(), tags=("paris",))
        sign_in(browser, "alice")

        page = get(browser, f"/photos/{image_id}").get_data(as_text=True)

        assert 'id="location"' in page
        assert "48.86, 2.29" in page
        assert 'id="delete"' in page
        assert "EOS R5" in page

    def test_others_see_neither_location_nor_delete(
        self, gallery: Flask, browser: FlaskClient
    ) -> None:
        image_id = published(gallery, "alice", sideways_jpeg(), tags=("paris",))
        sign_in(browser, "bob")

        page = get(browser, f"/photos/{image_id}")
        html = page.get_data(as_text=True)

        assert page.status_code == 200
        assert "EOS R5" in html
        assert 'id="location"' not in html
        assert "48.86" not in html
        assert 'id="delete"' not in html
        deleted = post(browser, f"/photos/{image_id}/delete", data={"csrf_token": csrf_of(page)})
        assert deleted.status_code == 403
        assert get(browser, f"/photos/{image_id}").status_code == 200

    def test_the_owner_edits_tags_and_deletes(self, gallery: Flask, browser: FlaskClient) -> None:
        image_id = published(gallery, "alice", tags=("draft",))
        sign_in(browser, "alice")
        page = get(browser, f"/photos/{image_id}")
        form = {"csrf_token": csrf_of(page), "version": "1"}

        edited = post(browser, f"/photos/{image_id}/tags", data={**form, "tags": "Lake, sunset"})
        stale = post(browser, f"/photos/{image_id}/tags", data={**form, "tags": "again"})
        deleted = post(browser, f"/photos/{image_id}/delete", data={**form, "version": "2"})

        assert edited.status_code == 302
        assert stale.status_code == 412
        assert "is at version 2" in stale.get_data(as_text=True)
        assert deleted.status_code == 302
        assert get(browser, f"/photos/{image_id}").status_code == 404

    def test_the_grid_lists_newest_first_with_placeholders_once_the_worker_made_them(
        self, gallery: Flask, browser: FlaskClient
    ) -> None:
        first = published(gallery, "carol", jpeg(color="green"), tags=("grid",))
        second = published(gallery, "carol", jpeg(color="blue"), tags=("grid",))
        sign_in(browser, "bob")

        # Before the worker: plain tiles, each with its rendition, no placeholder to paint
        before = get(browser, "/?tags=grid&user_id=carol").get_data(as_text=True)
        run_jobs(jwt_settings())
        after = get(browser, "/?tags=grid&user_id=carol").get_data(as_text=True)

        ids = re.findall(r'data-image-id="([0-9A-Z]{26})"', before)
        assert ids == [second, first]
        assert before.count('data-blurhash=""') == 2
        assert before.count('data-color=""') == 2
        assert f"/photos/{first}/rendition/256" in before
        assert re.findall(r'data-image-id="([0-9A-Z]{26})"', after) == ids
        assert len(re.findall(r'data-blurhash="[^"]{20,}"', after)) == 2
        assert len(re.findall(r'data-color="#[0-9a-f]{6}"', after)) == 2

    def test_a_bad_filter_is_shown_on_the_page(self, browser: FlaskClient) -> None:
        sign_in(browser, "bob")

        page = get(browser, "/?date_from=yesterday")

        assert page.status_code == 422
        assert "date_from" in page.get_data(as_text=True)

    def test_renditions_and_downloads_redirect_to_storage(
        self, gallery: Flask, browser: FlaskClient
    ) -> None:
        image_id = published(gallery, "alice")
        sign_in(browser, "bob")

        rendition = get(browser, f"/photos/{image_id}/rendition/256")
        download = get(browser, f"/photos/{image_id}/download")

        assert rendition.status_code == 302
        assert "renditions/" in rendition.headers["Location"]
        assert download.status_code == 302
        assert f"originals/{image_id}" in download.headers["Location"]


class TestUploadSessions:
    def open_and_send(
        self, browser: FlaskClient, data: bytes, **declared: Any
    ) -> tuple[str, dict[str, str]]:
        """A session opened as the page's script opens it, the bytes put where its presigned
        POST would put them: the upload id, and the script's headers."""
        headers = {"X-CSRFToken": csrf_of(get(browser, "/")), "Accept": "application/json"}
        body = {"filename": "drop.jpg", "content_type": "image/jpeg", "size": len(data)}
        ticket = post(browser, "/photo-uploads", json=body | declared, headers=headers)
        assert ticket.status_code == 201, ticket.get_json()
        fields = ticket.get_json()["fields"]
        boto3.client("s3").put_object(
            Bucket=jwt_settings().s3_bucket_name, Key=fields["key"], Body=data
        )
        return ticket.get_json()["upload_id"], headers

    def complete(self, browser: FlaskClient, upload_id: str, headers: Any) -> TestResponse:
        return post(browser, f"/photo-uploads/{upload_id}/complete", json={}, headers=headers)

    def test_a_session_completed_by_the_page_is_processing_until_the_worker_publishes_it(
        self, gallery: Flask, browser: FlaskClient
    ) -> None:
        sign_in(browser, "alice")
        upload_id, headers = self.open_and_send(browser, jpeg((40, 30)), tags=["drop"])

        done = self.complete(browser, upload_id, headers)
        watched = get(browser, f"/photo-uploads/{upload_id}", headers=headers)

        # complete answers at once: the session is the worker's now, to be watched
        assert done.status_code == 202, done.get_json()
        assert done.get_json() == {"upload_id": upload_id, "status": "PROCESSING"}
        assert done.headers["Location"] == f"/photo-uploads/{upload_id}"
        assert done.headers["Retry-After"] == "1"
        assert watched.status_code == 200
        assert watched.get_json()["status"] == "PROCESSING"
        assert watched.headers["Retry-After"] == "1"
        assert watched.headers["Cache-Control"] == "private, no-store"

        # once the worker ran its job, the session is READY with the image's tile
        run_jobs(jwt_settings())
        ready = get(browser, f"/photo-uploads/{upload_id}", headers=headers)

        answer = ready.get_json()
        assert ready.status_code == 200
        assert (answer["status"], answer["duplicate"]) == ("READY", False)
        assert "Retry-After" not in ready.headers
        assert f'data-image-id="{answer["image_id"]}"' in answer["tile"]
        assert re.search(r'data-blurhash="[^"]{20,}"', answer["tile"])  # made by the job
        assert "alice" in get(browser, f"/photos/{answer['image_id']}").get_data(as_text=True)
        # completing it again answers the session as it is
        again = self.complete(browser, upload_id, headers)
        assert again.status_code == 200
        assert again.get_json()["image_id"] == answer["image_id"]

    def test_a_session_the_worker_refuses_says_why(
        self, gallery: Flask, browser: FlaskClient
    ) -> None:
        sign_in(browser, "alice")
        data = jpeg((40, 30), color="red")
        wrong = hashlib.sha256(data + b"!").hexdigest()
        upload_id, headers = self.open_and_send(browser, data, sha256=wrong)

        assert self.complete(browser, upload_id, headers).status_code == 202
        run_jobs(jwt_settings())
        failed = get(browser, f"/photo-uploads/{upload_id}", headers=headers)

        answer = failed.get_json()
        assert failed.status_code == 200
        assert answer["status"] == "FAILED"
        assert "SHA-256" in answer["failure"]
        assert "tile" not in answer
        assert "Retry-After" not in failed.headers

    def test_nobody_else_watches_an_upload(self, gallery: Flask, browser: FlaskClient) -> None:
        sign_in(browser, "alice")
        upload_id, _ = self.open_and_send(browser, jpeg((20, 20), color="blue"))
        other = gallery.test_client()
        sign_in(other, "bob")

        watched = get(other, f"/photo-uploads/{upload_id}", headers={"Accept": "application/json"})

        assert watched.status_code == 404
        assert watched.get_json()["code"] == 404

    def test_the_drop_zone_takes_heic_heif_and_avif_and_knows_where_to_watch(
        self, browser: FlaskClient
    ) -> None:
        sign_in(browser, "alice")

        page = get(browser, "/").get_data(as_text=True)

        assert 'data-watch="/photo-uploads/UPLOAD_ID"' in page
        accepted = re.search(r'id="file-input" accept="([^"]+)"', page)
        assert accepted
        assert {"image/heic", "image/heif", "image/avif"} <= set(accepted.group(1).split(","))

    def test_an_anonymous_script_gets_a_json_401(self, browser: FlaskClient) -> None:
        headers = {"X-CSRFToken": csrf_of(get(browser, "/sign-in")), "Accept": "application/json"}
        body = {"filename": "a.jpg", "content_type": "image/jpeg", "size": 10}

        response = post(browser, "/photo-uploads", json=body, headers=headers)

        assert response.status_code == 401
        assert response.get_json()["code"] == 401


class TestInfiniteScroll:
    def test_the_grid_pages_by_cursor(self, gallery: Flask, browser: FlaskClient) -> None:
        ids = [published(gallery, "dave", jpeg(color=f"#{i:02x}8040")) for i in range(26)]
        sign_in(browser, "bob")

        grid = get(browser, "/?user_id=dave").get_data(as_text=True)
        first = re.findall(r'data-image-id="([0-9A-Z]{26})"', grid)
        more = re.search(r'id="more" class="more" href="([^"]+)" data-tiles="([^"]+)"', grid)
        assert more
        tiles = get(browser, more.group(2).replace("&amp;", "&"))
        rest = re.findall(r'data-image-id="([0-9A-Z]{26})"', tiles.get_data(as_text=True))

        assert first + rest == list(reversed(ids))
        assert len(first) == 24
        assert "X-Next-Tiles" not in tiles.headers
        assert "user_id=dave" in more.group(1)
