"""CognitoSignIn against moto's Cognito (in-process): USER_PASSWORD_AUTH and its refusals."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import boto3
import jwt
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from service.adapters.cognito_sign_in import REVOKE_FAILED, WRONG_CREDENTIALS, CognitoSignIn
from service.domain.errors import SignInFailed, StorageUnavailable
from service.entrypoints.provisioning import UserPool, ensure_user_pool

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient

PASSWORD = "Alice-password-1"


@pytest.fixture
def cognito(monkeypatch: pytest.MonkeyPatch) -> Iterator[CognitoIdentityProviderClient]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield boto3.client("cognito-idp", region_name="us-east-1")


@pytest.fixture
def pool(cognito: CognitoIdentityProviderClient) -> UserPool:
    made = ensure_user_pool(cognito, "http://moto.test:5000", "us-east-1")
    cognito.admin_create_user(UserPoolId=made.pool_id, Username="alice", MessageAction="SUPPRESS")
    cognito.admin_set_user_password(
        UserPoolId=made.pool_id, Username="alice", Password=PASSWORD, Permanent=True
    )
    return made


def test_the_right_password_gets_the_users_tokens(
    cognito: CognitoIdentityProviderClient, pool: UserPool
) -> None:
    tokens = CognitoSignIn(cognito, pool.client_id).sign_in("alice", PASSWORD)

    access = jwt.decode(tokens.access_token, options={"verify_signature": False})
    identity = jwt.decode(tokens.id_token, options={"verify_signature": False})
    assert (access["username"], access["token_use"], access["client_id"]) == (
        "alice",
        "access",
        pool.client_id,
    )
    assert identity["token_use"] == "id"
    assert tokens.expires_in > 0


@pytest.mark.parametrize(
    ("user", "password"), [("alice", "Wrong-password-1"), ("nobody", PASSWORD)]
)
def test_a_wrong_user_or_password_get_the_same_refusal(
    cognito: CognitoIdentityProviderClient, pool: UserPool, user: str, password: str
) -> None:
    with pytest.raises(SignInFailed) as refused:
        CognitoSignIn(cognito, pool.client_id).sign_in(user, password)

    assert refused.value.message == WRONG_CREDENTIALS


def test_a_temporary_password_needs_a_step_the_gallery_does_not_offer(
    cognito: CognitoIdentityProviderClient, pool: UserPool
) -> None:
    cognito.admin_create_user(
        UserPoolId=pool.pool_id,
        Username="newcomer",
        TemporaryPassword="Temporary-pass-1",
        MessageAction="SUPPRESS",
    )

    with pytest.raises(SignInFailed) as refused:
        CognitoSignIn(cognito, pool.client_id).sign_in("newcomer", "Temporary-pass-1")

    assert "NEW_PASSWORD_REQUIRED" in refused.value.message


def test_an_unknown_app_client_is_a_service_failure(
    cognito: CognitoIdentityProviderClient, pool: UserPool
) -> None:
    with pytest.raises(StorageUnavailable):
        CognitoSignIn(cognito, "no-such-client").sign_in("alice", PASSWORD)


def test_signing_in_gets_a_refresh_token(
    cognito: CognitoIdentityProviderClient, pool: UserPool
) -> None:
    tokens = CognitoSignIn(cognito, pool.client_id).sign_in("alice", PASSWORD)

    assert tokens.refresh_token
    assert tokens.refresh_token not in repr(tokens)


def test_revoking_asks_cognito_to_revoke_the_refresh_token() -> None:
    # moto has no RevokeToken: botocore's Stubber checks the call against Cognito's API model.
    client = boto3.client("cognito-idp", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_response("revoke_token", {}, {"Token": "refresh-1", "ClientId": "client-1"})

        CognitoSignIn(client, "client-1").revoke("refresh-1")

        stub.assert_no_pending_responses()


@pytest.mark.parametrize("code", ["UnsupportedTokenTypeException", "TooManyRequestsException"])
def test_a_refused_revocation_is_a_service_failure_with_a_stable_message(code: str) -> None:
    client = boto3.client("cognito-idp", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error("revoke_token", service_error_code=code, http_status_code=400)

        with pytest.raises(StorageUnavailable) as failed:
            CognitoSignIn(client, "client-1").revoke("refresh-1")

    assert failed.value.message == REVOKE_FAILED
    assert failed.value.detail == code
