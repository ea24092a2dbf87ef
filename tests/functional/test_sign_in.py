"""Sign-in and who may do what, over HTTP (Flask test client, moto's in-process S3 + DynamoDB).

Tokens are signed by a test issuer (tests/support/tokens.py); the app verifies them with the same
verifier it uses in production, given that issuer's JWKS instead of fetching it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.entrypoints.app import create_app
from service.settings import Settings
from tests.support.aws import moto_environment, small_settings
from tests.support.images import jpeg
from tests.support.tokens import CLIENT_ID, ISSUER, TokenIssuer, verifier_for

ISSUER_KEYS = TokenIssuer()


def jwt_settings(**overrides: Any) -> Settings:
    return small_settings(
        auth_mode="jwt", auth_issuer=ISSUER, auth_client_ids=(CLIENT_ID,), **overrides
    )


@pytest.fixture(scope="module")
def aws_jwt() -> Iterator[Settings]:
    with moto_environment(jwt_settings()) as settings:
        yield settings


@pytest.fixture(scope="module")
def app(aws_jwt: Settings) -> Flask:
    return create_app(aws_jwt, token_verifier=verifier_for(ISSUER_KEYS))


@pytest.fixture(scope="module")
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def bearer(user: str, **claims: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {ISSUER_KEYS.token(user, **claims)}"}


def upload(client: FlaskClient, user: str, **fields: str) -> Any:
    return client.post(
        "/images",
        data={"image": (io.BytesIO(jpeg()), "photo.jpg"), "tags": '["auth"]', **fields},
        headers=bearer(user),
        content_type="multipart/form-data",
    )


def uploaded(client: FlaskClient, user: str) -> dict[str, Any]:
    response = upload(client, user)
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def assert_unauthorized(response: Any, error: str) -> None:
    assert response.status_code == 401, response.get_json()
    assert response.get_json()["code"] == 401
    assert response.get_json()["message"]
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert f'error="{error}"' in challenge


class TestPublicRoutes:
    @pytest.mark.parametrize("path", ["/health", "/health/ready", "/openapi.json", "/docs"])
    def test_need_no_token(self, client: FlaskClient, path: str) -> None:
        assert client.get(path).status_code == 200

    def test_the_openapi_document_declares_the_bearer_scheme(self, client: FlaskClient) -> None:
        spec = client.get("/openapi.json").get_json()

        assert spec["components"]["securitySchemes"]["bearerAuth"] == {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
        }
        assert spec["security"] == [{"bearerAuth": []}]
        assert spec["paths"]["/health"]["get"]["security"] == []
        assert spec["paths"]["/health/ready"]["get"]["security"] == []

    def test_readiness_warns_only_when_sign_in_is_off(self, client: FlaskClient) -> None:
        assert "warnings" not in client.get("/health/ready").get_json()


class TestRejections:
    def test_no_token(self, client: FlaskClient) -> None:
        assert_unauthorized(client.get("/images"), "invalid_request")

    @pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Token a.b.c", "a.b.c"])
    def test_a_header_without_a_bearer_token(self, client: FlaskClient, header: str) -> None:
        response = client.get("/images", headers={"Authorization": header})

        assert_unauthorized(response, "invalid_request")
        assert response.get_json()["message"] == "The Authorization header must be 'Bearer <token>'"

    @pytest.mark.parametrize(
        "token", ["not-a-jwt", "a.b", "a.b.c.d", "a.b.c", "abc$.def.ghi", "e30.e30.e30 x"]
    )
    def test_a_malformed_bearer_token(self, client: FlaskClient, token: str) -> None:
        response = client.get("/images", headers={"Authorization": f"Bearer {token}"})

        assert_unauthorized(response, "invalid_token")
        assert response.get_json()["message"] == "The token is malformed: it is not a JWT"

    @pytest.mark.parametrize(
        "token",
        [
            pytest.param(TokenIssuer().token(), id="signed-by-another-key"),
            pytest.param(
                ISSUER_KEYS.token().rsplit(".", 2)[0]
                + "."
                + TokenIssuer().token("mallory").split(".")[1]
                + "."
                + ISSUER_KEYS.token().split(".")[2],
                id="tampered-payload",
            ),
            pytest.param(ISSUER_KEYS.sign(ISSUER_KEYS.claims(), kid="unknown"), id="unknown-kid"),
            pytest.param(
                ISSUER_KEYS.token(iss="https://cognito-idp.eu-west-1.amazonaws.com/x"),
                id="wrong-issuer",
            ),
            pytest.param(ISSUER_KEYS.token(client_id="another-client"), id="wrong-client"),
            pytest.param(ISSUER_KEYS.token(exp=1), id="expired"),
            pytest.param(ISSUER_KEYS.token(nbf=4_000_000_000), id="not-yet-valid"),
            pytest.param(ISSUER_KEYS.token(token_use="id"), id="id-token-for-access"),
        ],
    )
    def test_an_untrusted_token(self, client: FlaskClient, token: str) -> None:
        response = client.get("/images", headers={"Authorization": f"Bearer {token}"})

        assert_unauthorized(response, "invalid_token")

    def test_alg_none(self, client: FlaskClient) -> None:
        _, payload, _ = ISSUER_KEYS.token().split(".")
        none_header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"  # {"alg":"none","typ":"JWT"}

        response = client.get(
            "/images", headers={"Authorization": f"Bearer {none_header}.{payload}."}
        )

        assert_unauthorized(response, "invalid_token")

    def test_an_access_token_where_id_tokens_are_expected(self, aws_jwt: Settings) -> None:
        client = create_app(aws_jwt, token_verifier=verifier_for(ISSUER_KEYS, "id")).test_client()

        assert_unauthorized(client.get("/images", headers=bearer("alice")), "invalid_token")

    def test_a_bad_token_is_refused_even_where_reads_are_public(self, aws_jwt: Settings) -> None:
        from dataclasses import replace

        public = create_app(
            replace(aws_jwt, public_read=True), token_verifier=verifier_for(ISSUER_KEYS)
        )
        response = public.test_client().get(
            "/images", headers={"Authorization": f"Bearer {TokenIssuer().token()}"}
        )

        assert_unauthorized(response, "invalid_token")


class TestOwnership:
    def test_an_upload_belongs_to_the_signed_in_user(self, client: FlaskClient) -> None:
        assert uploaded(client, "alice")["user_id"] == "alice"
        named = upload(client, "alice", user_id="alice")
        assert named.status_code == 201

    def test_an_upload_naming_someone_else_is_forbidden(self, client: FlaskClient) -> None:
        response = upload(client, "alice", user_id="bob")

        assert response.status_code == 403
        assert response.get_json()["code"] == 403

    def test_an_anonymous_upload_is_unauthorized(self, client: FlaskClient) -> None:
        response = client.post(
            "/images",
            data={"image": (io.BytesIO(jpeg()), "a.jpg"), "user_id": "alice"},
            content_type="multipart/form-data",
        )
        assert_unauthorized(response, "invalid_request")

    def test_any_signed_in_user_reads_but_only_the_owner_writes(self, client: FlaskClient) -> None:
        image_id = uploaded(client, "alice")["image_id"]
        as_bob = bearer("bob")

        assert client.get(f"/images/{image_id}", headers=as_bob).status_code == 200
        assert client.get(f"/images/{image_id}/download", headers=as_bob).status_code == 200
        assert client.get("/images?user_id=alice", headers=as_bob).status_code == 200
        patch = client.patch(f"/images/{image_id}", json={"tags": ["mine"]}, headers=as_bob)
        assert patch.status_code == 403
        assert client.delete(f"/images/{image_id}", headers=as_bob).status_code == 403
        assert client.get(f"/images/{image_id}", headers=as_bob).get_json()["tags"] == ["auth"]
        own = client.patch(f"/images/{image_id}", json={"tags": ["mine"]}, headers=bearer("alice"))
        assert own.status_code == 200

    def test_a_moderator_may_change_and_delete_anyones_image(self, client: FlaskClient) -> None:
        image_id = uploaded(client, "alice")["image_id"]
        moderator = bearer("mod", **{"cognito:groups": ["admins"]})

        patched = client.patch(f"/images/{image_id}", json={"description": "x"}, headers=moderator)
        assert patched.status_code == 200
        assert client.delete(f"/images/{image_id}", headers=moderator).status_code == 204

    def test_reads_need_sign_in_unless_public(self, aws_jwt: Settings, client: FlaskClient) -> None:
        from dataclasses import replace

        image_id = uploaded(client, "alice")["image_id"]
        assert_unauthorized(client.get(f"/images/{image_id}"), "invalid_request")

        public = create_app(
            replace(aws_jwt, public_read=True), token_verifier=verifier_for(ISSUER_KEYS)
        )
        anonymous = public.test_client()
        assert anonymous.get(f"/images/{image_id}").status_code == 200
        assert anonymous.get("/images").status_code == 200
        assert_unauthorized(anonymous.delete(f"/images/{image_id}"), "invalid_request")


class TestVersions:
    def test_get_returns_an_etag_and_patch_honours_if_match(self, client: FlaskClient) -> None:
        as_alice = bearer("alice")
        image_id = uploaded(client, "alice")["image_id"]
        got = client.get(f"/images/{image_id}", headers=as_alice)
        assert got.headers["ETag"] == '"1"'
        assert got.get_json()["version"] == 1

        changed = client.patch(
            f"/images/{image_id}", json={"tags": ["b"]}, headers={**as_alice, "If-Match": '"1"'}
        )
        assert changed.status_code == 200
        assert changed.headers["ETag"] == '"2"'

        stale = client.patch(
            f"/images/{image_id}", json={"tags": ["c"]}, headers={**as_alice, "If-Match": '"1"'}
        )
        assert stale.status_code == 412
        assert stale.get_json()["code"] == 412
        stale_delete = client.delete(f"/images/{image_id}", headers={**as_alice, "If-Match": '"1"'})
        assert stale_delete.status_code == 412
        assert client.get(f"/images/{image_id}", headers=as_alice).get_json()["tags"] == ["b"]
        fresh_delete = client.delete(f"/images/{image_id}", headers={**as_alice, "If-Match": '"2"'})
        assert fresh_delete.status_code == 204

    @pytest.mark.parametrize("value", ['"abc"', 'W/"x"', '"99999999999"'])
    def test_an_if_match_naming_no_version_fails(self, client: FlaskClient, value: str) -> None:
        image_id = uploaded(client, "alice")["image_id"]
        response = client.patch(
            f"/images/{image_id}",
            json={"description": "x"},
            headers={**bearer("alice"), "If-Match": value},
        )
        assert response.status_code == 412


class TestBatch:
    def test_each_item_gets_its_result(self, client: FlaskClient) -> None:
        mine = [uploaded(client, "alice")["image_id"] for _ in range(2)]
        theirs = uploaded(client, "bob")["image_id"]
        missing = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
        ids = [*mine, theirs, missing]
        as_alice = bearer("alice")

        tagged = client.post(
            "/images/batch",
            json={"action": "add_tags", "ids": ids, "tags": ["trip", "Auth"]},
            headers=as_alice,
        )
        assert tagged.status_code == 200
        assert [r["result"] for r in tagged.get_json()["results"]] == [
            "ok",
            "ok",
            "forbidden",
            "not_found",
        ]
        for image_id in mine:
            image = client.get(f"/images/{image_id}", headers=as_alice).get_json()
            assert image["tags"] == ["auth", "trip"]
        assert mine[0] in ids_listed(client, "?tags=trip", as_alice)

        untagged = client.post(
            "/images/batch",
            json={"action": "remove_tags", "ids": mine, "tags": ["auth"]},
            headers=as_alice,
        )
        assert [r["result"] for r in untagged.get_json()["results"]] == ["ok", "ok"]
        assert not set(mine) & set(ids_listed(client, "?tags=auth", as_alice))

        deleted = client.post(
            "/images/batch", json={"action": "delete", "ids": ids}, headers=as_alice
        )
        assert [r["result"] for r in deleted.get_json()["results"]] == [
            "ok",
            "ok",
            "forbidden",
            "not_found",
        ]
        assert client.get(f"/images/{theirs}", headers=as_alice).status_code == 200
        assert client.get(f"/images/{mine[0]}", headers=as_alice).status_code == 404

    @pytest.mark.parametrize(
        "body",
        [
            {"action": "delete", "ids": []},
            {"action": "delete", "ids": ["x"]},
            {"action": "delete", "ids": ["01ARZ3NDEKTSV4RRFFQ69G5FAV"] * 101},
            {"action": "explode", "ids": ["01ARZ3NDEKTSV4RRFFQ69G5FAV"]},
            {"action": "add_tags", "ids": ["01ARZ3NDEKTSV4RRFFQ69G5FAV"]},
        ],
    )
    def test_a_bad_batch_is_refused_whole(self, client: FlaskClient, body: dict[str, Any]) -> None:
        response = client.post("/images/batch", json=body, headers=bearer("alice"))
        assert response.status_code == 422, response.get_json()

    def test_an_anonymous_batch_is_unauthorized(self, client: FlaskClient) -> None:
        body = {"action": "delete", "ids": ["01ARZ3NDEKTSV4RRFFQ69G5FAV"]}
        assert_unauthorized(client.post("/images/batch", json=body), "invalid_request")

    def test_ids_returns_those_images_in_one_call(self, client: FlaskClient) -> None:
        first, second = (uploaded(client, "alice")["image_id"] for _ in range(2))
        missing = "01ARZ3NDEKTSV4RRFFQ69G5FAV"

        response = client.get(f"/images?ids={second},{missing},{first}", headers=bearer("bob"))

        assert response.status_code == 200
        assert [i["image_id"] for i in response.get_json()["items"]] == [second, first]
        mixed = client.get(f"/images?ids={first}&user_id=alice", headers=bearer("bob"))
        assert mixed.status_code == 422


def ids_listed(client: FlaskClient, query: str, headers: dict[str, str]) -> list[str]:
    return [
        i["image_id"] for i in client.get(f"/images{query}", headers=headers).get_json()["items"]
    ]
