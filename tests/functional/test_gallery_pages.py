"""The gallery's pages over HTTP (Flask test client, moto's in-process S3 + DynamoDB): what
owners and others see and may do, the grid's filters and cursor pages, upload sessions."""

from __future__ import annotations

import re

import boto3
from flask import Flask
from flask.testing import FlaskClient

from tests.support.gallery import (
    csrf_of,
    get,
    jwt_settings,
    post,
    published,
    sign_in,
)
from tests.support.images import jpeg, sideways_jpeg


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

    def test_the_grid_lists_newest_first_with_placeholders(
        self, gallery: Flask, browser: FlaskClient
    ) -> None:
        first = published(gallery, "carol", jpeg(color="green"), tags=("grid",))
        second = published(gallery, "carol", jpeg(color="blue"), tags=("grid",))
        sign_in(browser, "bob")

        html = get(browser, "/?tags=grid&user_id=carol").get_data(as_text=True)

        ids = re.findall(r'data-image-id="([0-9A-Z]{26})"', html)
        assert ids == [second, first]
        assert re.search(r'data-blurhash="[^"]{20,}"', html)
        assert f"/photos/{first}/rendition/256" in html

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
    def test_a_session_opened_and_completed_by_the_page(
        self,
        gallery: Flask,
        browser: FlaskClient,
    ) -> None:
        sign_in(browser, "alice")
        headers = {"X-CSRFToken": csrf_of(get(browser, "/")), "Accept": "application/json"}
        data = jpeg((40, 30))
        body = {"filename": "drop.jpg", "content_type": "image/jpeg", "size": len(data)}

        ticket = post(browser, "/photo-uploads", json={**body, "tags": ["drop"]}, headers=headers)
        assert ticket.status_code == 201, ticket.get_json()
        fields = ticket.get_json()["fields"]
        # The page's script posts the bytes to S3 itself; here boto3 puts them in its place.
        boto3.client("s3").put_object(
            Bucket=jwt_settings().s3_bucket_name, Key=fields["key"], Body=data
        )
        upload_id = ticket.get_json()["upload_id"]
        done = post(browser, f"/photo-uploads/{upload_id}/complete", json={}, headers=headers)

        assert done.status_code == 201, done.get_json()
        answer = done.get_json()
        assert f'data-image-id="{answer["image_id"]}"' in answer["tile"]
        assert "alice" in get(browser, f"/photos/{answer['image_id']}").get_data(as_text=True)

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
