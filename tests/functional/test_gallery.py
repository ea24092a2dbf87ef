"""The gallery over HTTP (Flask test client, moto's in-process S3 + DynamoDB): sign-in and its
cookie, CSRF, the Content-Security-Policy, what owners and others see, AUTH_MODE=none.

Sign-in goes through a CredentialExchange that signs tokens with the test issuer
(tests/support/tokens.py); the app verifies them with its production verifier.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from service.adapters.jwt_verifier import JwtVerifier
from service.app import create_app
from service.images import ImageService
from service.model import Caller, NewImage
from service.settings import Settings
from tests.support.aws import moto_environment, small_settings
from tests.support.images import jpeg, sideways_jpeg
from tests.support.tokens import CLIENT_ID, ISSUER, IssuerCredentials, TokenIssuer

KEYS = TokenIssuer()
PASSWORDS = {"alice": "alice-password-1", "bob": "bob-password-12"}
SESSION_COOKIE = "__Host-mpycloud-session"
BASE = "https://gallery.test"


def verifier() -> JwtVerifier:
    return JwtVerifier(
        issuer=ISSUER,
        jwks_url="https://unused.example/jwks.json",
        client_ids=(CLIENT_ID,),
        jwks_client=KEYS,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def aws_jwt() -> Iterator[Settings]:
    settings = small_settings(auth_mode="jwt", auth_issuer=ISSUER, auth_client_ids=(CLIENT_ID,))
    with moto_environment(settings) as ready:
        yield ready


@pytest.fixture(scope="module")
def app(aws_jwt: Settings) -> Flask:
    return create_app(
        aws_jwt, token_verifier=verifier(), credentials=IssuerCredentials(KEYS, PASSWORDS)
    )


@pytest.fixture
def browser(app: Flask) -> FlaskClient:
    """A fresh visitor (its own cookie jar), on HTTPS as in production."""
    return app.test_client()


def get(client: FlaskClient, path: str, **kwargs: Any) -> TestResponse:
    return client.get(path, base_url=BASE, **kwargs)


def post(client: FlaskClient, path: str, **kwargs: Any) -> TestResponse:
    """A POST from one of the site's pages: browsers send the Referer, which CSRF checks on
    HTTPS."""
    headers = {"Referer": f"{BASE}/", **kwargs.pop("headers", {})}
    return client.post(path, base_url=BASE, headers=headers, **kwargs)


def csrf_of(page: TestResponse) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', page.get_data(as_text=True))
    assert found, "the page carries no CSRF token"
    return found.group(1)


def sign_in(client: FlaskClient, user: str, password: str | None = None) -> TestResponse:
    token = csrf_of(get(client, "/sign-in"))
    form = {"username": user, "password": password or PASSWORDS[user], "csrf_token": token}
    return post(client, "/sign-in", data=form)


def set_cookies(response: TestResponse) -> dict[str, str]:
    """Each Set-Cookie header of ``response``, by cookie name."""
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


def published(app: Flask, user: str, data: bytes | None = None, **fields: Any) -> str:
    service: ImageService = app.extensions["image_service"]
    import io

    new = NewImage(
        user_id=None, original_filename="photo.jpg", declared_content_type=None, **fields
    )
    result = service.upload(Caller(user_id=user), new, io.BytesIO(data or jpeg()))
    return result.image.image_id


class TestSignIn:
    def test_the_gallery_sends_a_visitor_to_sign_in(self, browser: FlaskClient) -> None:
        response = get(browser, "/?tags=beach")

        assert response.status_code == 302
        assert response.headers["Location"] == "/sign-in?next=/?tags%3Dbeach"

    def test_signing_in_sets_a_hardened_cookie(self, browser: FlaskClient) -> None:
        response = sign_in(browser, "alice")

        assert response.status_code == 302
        assert response.headers["Location"] == "/"
        cookie = set_cookies(response)[SESSION_COOKIE]
        flags = {part.strip().lower() for part in cookie.split(";")}
        assert {"httponly", "secure", "samesite=lax", "path=/", "max-age=3600"} <= flags
        assert not any(flag.startswith("domain") for flag in flags)
        assert "alice" in get(browser, "/").get_data(as_text=True)

    def test_the_form_secret_cookie_is_hardened_too(self, browser: FlaskClient) -> None:
        page = get(browser, "/sign-in")

        cookie = set_cookies(page)["__Host-mpycloud-form"]
        flags = {part.strip().lower() for part in cookie.split(";")}
        assert {"httponly", "secure", "samesite=lax", "path=/"} <= flags

    def test_a_wrong_password_sets_no_cookie(self, browser: FlaskClient) -> None:
        response = sign_in(browser, "alice", "not-her-password")

        assert response.status_code == 401
        assert "Wrong user name or password" in response.get_data(as_text=True)
        assert SESSION_COOKIE not in set_cookies(response)

    @pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil"])
    def test_next_never_leaves_the_site(self, browser: FlaskClient, target: str) -> None:
        token = csrf_of(get(browser, "/sign-in"))
        form = {**dict(username="bob", password=PASSWORDS["bob"]), "csrf_token": token}
        response = post(browser, "/sign-in", data={**form, "next": target})

        assert response.headers["Location"] == "/"

    def test_signing_out_clears_the_cookie(self, browser: FlaskClient) -> None:
        sign_in(browser, "alice")
        token = csrf_of(get(browser, "/"))

        response = post(browser, "/sign-out", data={"csrf_token": token})

        assert response.status_code == 302
        cookie = set_cookies(response)[SESSION_COOKIE]
        assert cookie.startswith(f"{SESSION_COOKIE}=;")
        assert "max-age=0" in cookie.lower()
        assert get(browser, "/").status_code == 302

    def test_an_expired_token_signs_the_visitor_out(self, browser: FlaskClient) -> None:
        browser.set_cookie(SESSION_COOKIE, KEYS.token("alice", exp=1), domain="gallery.test")

        response = get(browser, "/")

        assert response.status_code == 302
        assert set_cookies(response)[SESSION_COOKIE].startswith(f"{SESSION_COOKIE}=;")


class TestCsrf:
    def test_a_form_without_a_token_is_refused(self, browser: FlaskClient) -> None:
        response = post(browser, "/sign-in", data=dict(username="alice", password="x" * 12))

        assert response.status_code == 400
        assert "did not come from this site" in response.get_data(as_text=True)

    def test_a_token_of_another_visitor_is_refused(self, app: Flask, browser: FlaskClient) -> None:
        sign_in(browser, "alice")
        image_id = published(app, "alice")
        foreign = csrf_of(get(app.test_client(), "/sign-in"))

        response = post(browser, f"/photos/{image_id}/delete", data={"csrf_token": foreign})

        assert response.status_code == 400
        assert get(browser, f"/photos/{image_id}").status_code == 200

    def test_a_script_post_without_the_header_gets_a_json_400(self, browser: FlaskClient) -> None:
        sign_in(browser, "alice")
        body = {"filename": "a.jpg", "content_type": "image/jpeg", "size": 10}

        response = post(
            browser, "/photo-uploads", json=body, headers={"Accept": "application/json"}
        )

        assert response.status_code == 400
        assert response.get_json()["code"] == 400

    def test_the_api_needs_no_csrf_token(self, browser: FlaskClient) -> None:
        response = post(browser, "/images", headers={"Authorization": f"Bearer {KEYS.token()}"})

        assert response.status_code == 422  # the schema's answer: CSRF is not checked there


class TestHeaders:
    @pytest.mark.parametrize("path", ["/sign-in", "/"])
    def test_pages_carry_a_policy_without_inline_script(
        self, browser: FlaskClient, path: str
    ) -> None:
        sign_in(browser, "bob")
        page = get(browser, path)
        html = page.get_data(as_text=True)

        policy = page.headers["Content-Security-Policy"]
        assert "script-src 'self';" in policy
        assert "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy
        assert page.headers["Cache-Control"] == "private, no-store"
        scripts = re.findall(r"<script\b[^>]*>", html)
        assert scripts
        assert all(" src=" in tag for tag in scripts)
        assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers
        assert " style=" not in html

    def test_the_api_keeps_its_own_headers(self, browser: FlaskClient) -> None:
        assert "Content-Security-Policy" not in get(browser, "/health").headers


class TestImagePages:
    def test_the_owner_sees_location_and_may_delete(self, app: Flask, browser: FlaskClient) -> None:
        image_id = published(app, "alice", sideways_jpeg(), tags=("paris",))
        sign_in(browser, "alice")

        page = get(browser, f"/photos/{image_id}").get_data(as_text=True)

        assert 'id="location"' in page
        assert "48.86, 2.29" in page
        assert 'id="delete"' in page
        assert "EOS R5" in page

    def test_others_see_neither_location_nor_delete(self, app: Flask, browser: FlaskClient) -> None:
        image_id = published(app, "alice", sideways_jpeg(), tags=("paris",))
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

    def test_the_owner_edits_tags_and_deletes(self, app: Flask, browser: FlaskClient) -> None:
        image_id = published(app, "alice", tags=("draft",))
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
        self, app: Flask, browser: FlaskClient
    ) -> None:
        first = published(app, "carol", jpeg(color="green"), tags=("grid",))
        second = published(app, "carol", jpeg(color="blue"), tags=("grid",))
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
        self, app: Flask, browser: FlaskClient
    ) -> None:
        image_id = published(app, "alice")
        sign_in(browser, "bob")

        rendition = get(browser, f"/photos/{image_id}/rendition/256")
        download = get(browser, f"/photos/{image_id}/download")

        assert rendition.status_code == 302
        assert "renditions/" in rendition.headers["Location"]
        assert download.status_code == 302
        assert f"originals/{image_id}" in download.headers["Location"]


class TestUploadSessions:
    def test_a_session_opened_and_completed_by_the_page(
        self, app: Flask, browser: FlaskClient, aws_jwt: Settings
    ) -> None:
        sign_in(browser, "alice")
        headers = {"X-CSRFToken": csrf_of(get(browser, "/")), "Accept": "application/json"}
        data = jpeg((40, 30))
        body = {"filename": "drop.jpg", "content_type": "image/jpeg", "size": len(data)}

        ticket = post(browser, "/photo-uploads", json={**body, "tags": ["drop"]}, headers=headers)
        assert ticket.status_code == 201, ticket.get_json()
        fields = ticket.get_json()["fields"]
        # The page's script posts the bytes to S3 itself; here boto3 puts them in its place.
        boto3.client("s3").put_object(Bucket=aws_jwt.s3_bucket_name, Key=fields["key"], Body=data)
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


class TestWithoutSignIn:
    def test_the_gallery_works_without_sign_in(self, aws: Settings) -> None:
        app = create_app(aws)
        client = app.test_client()
        image_id = published(app, "user123", tags=("open",))

        grid = get(client, "/")
        page = get(client, f"/photos/{image_id}")
        deleted = post(client, f"/photos/{image_id}/delete", data={"csrf_token": csrf_of(page)})

        assert grid.status_code == 200
        assert image_id in grid.get_data(as_text=True)
        assert 'id="upload-user"' in grid.get_data(as_text=True)
        assert "Sign in</a>" not in grid.get_data(as_text=True)
        assert get(client, "/sign-in").status_code == 302
        assert deleted.status_code == 302
        assert get(client, f"/photos/{image_id}").status_code == 404


class TestInfiniteScroll:
    def test_the_grid_pages_by_cursor(self, app: Flask, browser: FlaskClient) -> None:
        ids = [published(app, "dave", jpeg(color=f"#{i:02x}8040")) for i in range(26)]
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
