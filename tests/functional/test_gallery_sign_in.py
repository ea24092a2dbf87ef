"""The gallery's sign-in and hardening over HTTP (Flask test client, moto's in-process S3 +
DynamoDB): the session cookie, CSRF, the Content-Security-Policy, AUTH_MODE=none."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.entrypoints.app import create_app
from service.settings import Settings
from tests.support.gallery import (
    KEYS,
    PASSWORDS,
    SIGN_IN_COOKIE,
    csrf_of,
    get,
    jwt_settings,
    post,
    published,
    set_cookies,
    sign_in,
)
from tests.support.tokens import IssuerCredentials, verifier_for

REFRESH_COOKIE = "__Secure-mpycloud-refresh"


@pytest.fixture
def credentials() -> IssuerCredentials:
    return IssuerCredentials(KEYS, PASSWORDS)


@pytest.fixture
def revoking(gallery: Flask, credentials: IssuerCredentials) -> FlaskClient:
    """A visitor of an app whose identity provider is ``credentials`` (on ``gallery``'s moto)."""
    app = create_app(jwt_settings(), token_verifier=verifier_for(KEYS), credentials=credentials)
    return app.test_client()


class TestSignIn:
    def test_the_gallery_sends_a_visitor_to_sign_in(self, browser: FlaskClient) -> None:
        response = get(browser, "/?tags=beach")

        assert response.status_code == 302
        assert response.headers["Location"] == "/sign-in?next=/?tags%3Dbeach"

    def test_signing_in_sets_a_hardened_cookie(self, browser: FlaskClient) -> None:
        response = sign_in(browser, "alice")

        assert response.status_code == 302
        assert response.headers["Location"] == "/"
        cookie = set_cookies(response)[SIGN_IN_COOKIE]
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
        assert SIGN_IN_COOKIE not in set_cookies(response)

    @pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil"])
    def test_next_never_leaves_the_site(self, browser: FlaskClient, target: str) -> None:
        token = csrf_of(get(browser, "/sign-in"))
        form = {**dict(username="bob", password=PASSWORDS["bob"]), "csrf_token": token}
        response = post(browser, "/sign-in", data={**form, "next": target})

        assert response.headers["Location"] == "/"

    @pytest.mark.parametrize(
        "target",
        [
            "/\t/evil.example",  # ?next=/%09/evil.example: browsers drop tabs and newlines
            "/\n/evil.example",
            "/\r\n/evil.example",
            "\t//evil.example",
            " //evil.example",
            "/\r\nSet-Cookie: planted=1",  # header injection: was a 500 after the password
            "/\x00",
            "/\x7f/evil.example",
            "/\\/evil.example",
            "javascript:alert(1)",
        ],
        ids=repr,
    )
    def test_next_is_refused_after_the_normalisation_browsers_apply(
        self, browser: FlaskClient, target: str
    ) -> None:
        form = get(browser, "/sign-in", query_string={"next": target})
        token = csrf_of(form)
        fields = {"username": "bob", "password": PASSWORDS["bob"], "csrf_token": token}
        response = post(browser, "/sign-in", data={**fields, "next": target})

        assert response.status_code == 302
        assert response.headers["Location"] == "/"
        assert 'name="next" value="/"' in form.get_data(as_text=True)

    @pytest.mark.parametrize("target", ["/photos/01ABC?size=2", "/?tags=a%20b&user_id=bob"])
    def test_next_within_the_site_is_kept(self, browser: FlaskClient, target: str) -> None:
        token = csrf_of(get(browser, "/sign-in"))
        fields = {"username": "bob", "password": PASSWORDS["bob"], "csrf_token": token}
        response = post(browser, "/sign-in", data={**fields, "next": target})

        assert response.headers["Location"] == target

    def test_signing_out_clears_the_cookie(self, browser: FlaskClient) -> None:
        sign_in(browser, "alice")
        token = csrf_of(get(browser, "/"))

        response = post(browser, "/sign-out", data={"csrf_token": token})

        assert response.status_code == 302
        cookie = set_cookies(response)[SIGN_IN_COOKIE]
        assert cookie.startswith(f"{SIGN_IN_COOKIE}=;")
        assert "max-age=0" in cookie.lower()
        assert get(browser, "/").status_code == 302

    def test_the_refresh_token_is_kept_for_sign_out_only(
        self, credentials: IssuerCredentials, revoking: FlaskClient
    ) -> None:
        response = sign_in(revoking, "alice")

        cookie = set_cookies(response)[REFRESH_COOKIE]
        value, *attributes = (part.strip() for part in cookie.split(";"))
        flags = {attribute.lower() for attribute in attributes}
        assert value == f"{REFRESH_COOKIE}={credentials.issued[-1]}"
        assert {"httponly", "secure", "samesite=strict", "path=/sign-out", "max-age=3600"} <= flags
        assert not any(flag.startswith("domain") for flag in flags)

    def test_signing_out_revokes_the_refresh_token(
        self, credentials: IssuerCredentials, revoking: FlaskClient
    ) -> None:
        sign_in(revoking, "alice")
        token = csrf_of(get(revoking, "/"))

        response = post(revoking, "/sign-out", data={"csrf_token": token})

        assert credentials.revoked == credentials.issued[-1:]
        cookies = set_cookies(response)
        assert cookies[SIGN_IN_COOKIE].startswith(f"{SIGN_IN_COOKIE}=;")
        assert cookies[REFRESH_COOKIE].startswith(f"{REFRESH_COOKIE}=;")
        assert "path=/sign-out" in cookies[REFRESH_COOKIE].lower()

    def test_signing_out_clears_the_cookies_when_revoking_fails(
        self,
        credentials: IssuerCredentials,
        revoking: FlaskClient,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        sign_in(revoking, "alice")
        token = csrf_of(get(revoking, "/"))
        credentials.revocation_fails = True

        response = post(revoking, "/sign-out", data={"csrf_token": token})

        assert response.status_code == 302
        assert set_cookies(response)[SIGN_IN_COOKIE].startswith(f"{SIGN_IN_COOKIE}=;")
        assert set_cookies(response)[REFRESH_COOKIE].startswith(f"{REFRESH_COOKIE}=;")
        assert "Could not revoke" in caplog.text
        assert get(revoking, "/").status_code == 302

    def test_an_expired_token_signs_the_visitor_out(self, browser: FlaskClient) -> None:
        browser.set_cookie(SIGN_IN_COOKIE, KEYS.token("alice", exp=1), domain="gallery.test")

        response = get(browser, "/")

        assert response.status_code == 302
        assert set_cookies(response)[SIGN_IN_COOKIE].startswith(f"{SIGN_IN_COOKIE}=;")


class TestCsrf:
    def test_a_form_without_a_token_is_refused(self, browser: FlaskClient) -> None:
        response = post(browser, "/sign-in", data=dict(username="alice", password="x" * 12))

        assert response.status_code == 400
        assert "did not come from this site" in response.get_data(as_text=True)

    def test_a_token_of_another_visitor_is_refused(
        self, gallery: Flask, browser: FlaskClient
    ) -> None:
        sign_in(browser, "alice")
        image_id = published(gallery, "alice")
        foreign = csrf_of(get(gallery.test_client(), "/sign-in"))

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
