"""``mpycloud login --emulator`` against a Cognito emulator (moto's server, in this process):
it signs in and changes no password."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3
import pytest
from moto.server import ThreadedMotoServer

from mpycloud.cli import main
from mpycloud.config import Config
from mpycloud.signin import (
    EMULATOR_CLIENT_NAME,
    EMULATOR_PASSWORD,
    EMULATOR_POOL_NAME,
    SignInFailed,
    emulator_sign_in,
)
from mpycloud.tokens import token_subject
from tests.client.fake_service import API, FakeService

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient


@dataclass(frozen=True)
class UserPool:
    endpoint: str
    admin: CognitoIdentityProviderClient
    pool_id: str
    client_id: str

    def add_user(self, name: str, password: str) -> None:
        self.admin.admin_create_user(UserPoolId=self.pool_id, Username=name)
        self.admin.admin_set_user_password(
            UserPoolId=self.pool_id, Username=name, Password=password, Permanent=True
        )

    def password_works(self, name: str, password: str) -> bool:
        try:
            self.admin.initiate_auth(
                ClientId=self.client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": name, "PASSWORD": password},
            )
        except self.admin.exceptions.NotAuthorizedException:
            return False
        return True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def emulator() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def pool(emulator: str) -> Iterator[UserPool]:
    """The pool and app client ``make run`` makes, by the names the client looks for."""
    admin = boto3.client(
        "cognito-idp",
        endpoint_url=emulator,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    pool_id = admin.create_user_pool(PoolName=EMULATOR_POOL_NAME)["UserPool"]["Id"]
    client_id = admin.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName=EMULATOR_CLIENT_NAME,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    yield UserPool(emulator, admin, pool_id, client_id)
    admin.delete_user_pool(UserPoolId=pool_id)


def test_login_with_the_emulator_changes_no_password(
    cli: FakeService,
    pool: UserPool,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # GIVEN a user of the emulator with a password of their own
    pool.add_user("dana", "Dana-Own-Password-1")
    monkeypatch.setattr("sys.stdin", io.StringIO("Dana-Own-Password-1\n"))

    # WHEN dana signs in from the command line with it
    code = main(["login", "--url", API, "--emulator", pool.endpoint, "dana", "--password-stdin"])

    # THEN a token is kept, and dana's password still works
    assert code == 0, capsys.readouterr().err
    assert Config.load().servers[API].user == "dana"
    assert pool.password_works("dana", "Dana-Own-Password-1")


def test_the_emulators_demo_password_is_the_default_and_stays(pool: UserPool) -> None:
    pool.add_user("user123", EMULATOR_PASSWORD)  # as make run makes its demo users

    signed = emulator_sign_in(pool.endpoint, "user123")

    assert token_subject(signed.access_token) == "user123"
    assert signed.app.client_id == pool.client_id
    assert pool.password_works("user123", EMULATOR_PASSWORD)


def test_a_wrong_password_is_refused_and_changes_nothing(pool: UserPool) -> None:
    pool.add_user("erin", "Erin-Own-Password-1")

    with pytest.raises(SignInFailed):
        emulator_sign_in(pool.endpoint, "erin")

    assert pool.password_works("erin", "Erin-Own-Password-1")
