"""The gallery's pages at their edges (Flask test client, moto's in-process S3 + DynamoDB): the
infinite scroll's next-tiles headers, a cached rendition, forms with a bad version, an anonymous
form post, the upload script's bad bodies, and an app without CURSOR_SECRET or sign-in."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from botocore.config import Config
from flask import Flask
from flask.testing import FlaskClient

from service.adapters.cognito_sign_in import CognitoSignIn
from service.entrypoints.app import create_app
from service.settings import Settings
from tests.support.aws import moto_environment, small_settings
from tests.support.gallery import KEYS, csrf_of, get, post, published, sign_in
from tests.support.images import jpeg
from tests.support.ports import free_port
from tests.support.tokens import CLIENT_ID, ISSUER, verifier_for

TILE = re.compile(r'data-image-id="([0-9A-Z]{26})"')


def script_headers(browser: FlaskClient) -> dict[str, str]:
    """What the page's upload script sends: its CSRF token, and JSON wanted back."""
    return {"X-CSRFToken": csrf_of(get(browser, "/")), "Accept": "application/json"}


class TestTiles:
    def test_the_first_tiles_name_the_next_ones_and_the_last_name_none(
        self, gallery: Flask, browser: FlaskClient
    ) -> None:
        ids = [published(gallery, "frank", jpeg(color=f"#{i:02x}4080")) for i in range(25)]
        sign_in(browser, "bob")

        first = get(browser, "/tiles?user_id=frank")
        more = first.headers["X-Next-Tiles"]
        page = urlsplit(first.headers["X-Next-Page"])
        last = get(browser, more)

        assert TILE.findall(first.get_data(as_text=True)) == list(reversed(ids))[:24]
        assert TILE.findall(last.get_data(as_text=True)) == [ids[0]]
        assert "X-Next-Tiles" not in last.headers
        assert "X-Next-Page" not in last.headers
        # The next page of the grid itself, for a browser without the script: same filter.
        assert page.path == "/"
        assert parse_qs(page.query)["user_id"] == ["frank"]
        assert get(browser, first.headers["X-Next-Page"]).status_code == 200


class TestRenditions:
    def test_a_rendition_the_browser_holds_is_not_signed_again(
        self, gallery: Flask, browser: FlaskClient
    ) -> None:
        image_id = published(gallery, "alice")
        sign_in(browser, "alice")
        first = get(browser, f"/photos/{image_id}/rendition/256")

        again = get(
            browser,
            f"/photos/{image_id}/rendition/256",
            headers={"If-None-Match": first.headers["ETag"]},
        )

        assert first.status_code == 302
        assert again.status_code == 304
        assert "Location" not in again.headers
        assert again.headers["ETag"] == first.headers["ETag"]
        assert again.headers["Vary"] == "Accept, Cookie"


class TestForms:
    def test_a_version_that_is_not_a_number_is_shown_on_the_page(
        self, gallery: Flask, browser: FlaskClient
    ) -> None:
        image_id = published(gallery, "alice", tags=("kept",))
        sign_in(browser, "alice")
        token = csrf_of(get(browser, f"/photos/{image_id}"))

        edited = post(
            browser,
            f"/photos/{image_id}/tags",
            data={"csrf_token": token, "version": "v1", "tags": "changed"},
        )
        deleted = post(
            browser, f"/photos/{image_id}/delete", data={"csrf_token": token, "version": "1.0"}
        )

        assert edited.status_code == 422
        assert "version must be a number" in edited.get_data(as_text=True)
        assert deleted.status_code == 422
        assert "version must be a number" in deleted.get_data(as_text=True)
        page = get(browser, f"/photos/{image_id}").get_data(as_text=True)
        assert "kept" in page
        assert "changed" not in page

    def test_an_anonymous_form_post_goes_to_sign_in_and_back_to_the_gallery(
        self, gallery: Flask, browser: FlaskClient
    ) -> None:
        image_id = published(gallery, "alice")
        token = csrf_of(get(browser, "/sign-in"))

        response = post(browser, f"/photos/{image_id}/delete", data={"csrf_token": token})

        assert response.status_code == 302
        target = urlsplit(response.headers["Location"])
        assert target.path == "/sign-in"
        assert parse_qs(target.query)["next"] == ["/"]  # not the POST's URL: a GET there fails
        sign_in(browser, "alice")
        assert get(browser, f"/photos/{image_id}").status_code == 200


class TestUploadScript:
    def test_a_body_that_is_not_a_json_object_is_refused(self, browser: FlaskClient) -> None:
        sign_in(browser, "alice")
        headers = script_headers(browser)

        as_form = post(browser, "/photo-uploads", data={"filename": "a.jpg"}, headers=headers)
        as_list = post(browser, "/photo-uploads", json=["a.jpg"], headers=headers)

        for response in (as_form, as_list):
            assert response.status_code == 422
            assert response.get_json()["message"] == "The body must be a JSON object"

    def test_a_session_body_the_schema_refuses_names_its_fields(self, browser: FlaskClient) -> None:
        sign_in(browser, "alice")
        body = {"filename": "a.jpg", "content_type": "text/plain", "size": 0}

        response = post(browser, "/photo-uploads", json=body, headers=script_headers(browser))

        assert response.status_code == 422
        answer = response.get_json()
        assert answer["message"] == "Invalid upload"
        assert set(answer["errors"]) == {"content_type", "size"}

    def test_a_completion_without_parts_list_is_refused(self, browser: FlaskClient) -> None:
        sign_in(browser, "alice")
        body = {"parts": "all of them"}

        response = post(
            browser,
            "/photo-uploads/01HZX3N7Q8R9S0T1V2W3X4Y5Z6/complete",
            json=body,
            headers=script_headers(browser),
        )

        assert response.status_code == 422
        assert "parts" in response.get_json()["errors"]


class TestWithoutCursorSecretOrSignIn:
    def test_the_app_warns_and_its_forms_still_work_in_its_process(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        settings: Settings = small_settings(cursor_secret=None)
        with (
            moto_environment(settings),
            caplog.at_level(logging.WARNING, logger="service.entrypoints.app"),
        ):
            app = create_app(settings)
            client = app.test_client()
            image_id = published(app, "user123")
            token = csrf_of(get(client, f"/photos/{image_id}"))

            deleted = post(client, f"/photos/{image_id}/delete", data={"csrf_token": token})

            assert deleted.status_code == 302
            assert get(client, f"/photos/{image_id}").status_code == 404
        assert any("CURSOR_SECRET is not set" in r.getMessage() for r in caplog.records)

    def test_signing_in_is_not_offered_when_sign_in_is_off(self, aws: Settings) -> None:
        client = create_app(aws).test_client()
        token = csrf_of(get(client, "/"))

        response = post(
            client, "/sign-in", data={"username": "alice", "password": "x", "csrf_token": token}
        )

        assert response.status_code == 302
        assert urlsplit(response.headers["Location"]).path == "/"
        assert "__Host-mpycloud-sign-in" not in response.headers.get("Set-Cookie", "")


class TestCognitoDown:
    def test_signing_in_while_cognito_is_unreachable_is_a_503_page_not_a_refusal(
        self, aws: Settings
    ) -> None:
        unreachable = boto3.client(
            "cognito-idp",
            region_name="us-east-1",
            endpoint_url=f"http://127.0.0.1:{free_port()}",
            config=Config(retries={"max_attempts": 1}, connect_timeout=2),
        )
        signed_in = replace(aws, auth_mode="jwt", auth_issuer=ISSUER, auth_client_ids=(CLIENT_ID,))
        app = create_app(
            signed_in,
            token_verifier=verifier_for(KEYS),
            credentials=CognitoSignIn(unreachable, "any-client"),
        )
        browser = app.test_client()
        token = csrf_of(get(browser, "/sign-in"))

        response = post(
            browser,
            "/sign-in",
            data={"username": "alice", "password": "alice-password-1", "csrf_token": token},
        )

        assert response.status_code == 503
        assert "Could not sign in (EndpointConnectionError)" in response.get_data(as_text=True)
        assert "__Host-mpycloud-sign-in" not in response.headers.get("Set-Cookie", "")
