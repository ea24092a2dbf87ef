"""Tokens from Amazon Cognito (``InitiateAuth`` with ``USER_PASSWORD_AUTH``), or from the
user pool of ``make run``'s embedded emulator, for ``mpycloud login``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from mpycloud.config import CognitoApp
from mpycloud.errors import MpycloudError

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient

# What the service names its pool and app client on an emulator
# (service/entrypoints/provisioning.py).
EMULATOR_POOL_NAME = "mpycloud"
EMULATOR_CLIENT_NAME = "mpycloud-web"
# The password ``make run`` gives its emulator's users, and prints (devtools/dev_tokens.py).
EMULATOR_PASSWORD = "Mpycloud-dev-2026"  # noqa: S105 - an emulator's, known on purpose
EMULATOR_REGION = "us-east-1"
AWS_HOST_SUFFIXES = (".amazonaws.com", ".aws", ".amazonaws.com.cn")


class SignInFailed(MpycloudError):
    """Cognito refused the credentials, or asked for a step this command does not do."""


@dataclass(frozen=True)
class SignedIn:
    access_token: str
    refresh_token: str | None
    app: CognitoApp


def _cognito(app: CognitoApp, *, signed: bool) -> CognitoIdentityProviderClient:
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    options: dict[str, Any] = {"region_name": app.region, "endpoint_url": app.endpoint_url}
    if signed:  # the emulator's admin calls: any credentials do, but some are needed
        options |= {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
    else:  # InitiateAuth on a public app client needs no AWS credentials
        options["config"] = Config(signature_version=UNSIGNED)
    return boto3.client("cognito-idp", **options)


def _tokens(answer: Any, app: CognitoApp, refresh_token: str | None = None) -> SignedIn:
    if "ChallengeName" in answer:
        raise SignInFailed(
            f"Cognito asks for {answer['ChallengeName']} first (for example a new password): "
            "complete it with the AWS CLI or the hosted UI, then sign in again"
        )
    result = answer["AuthenticationResult"]
    return SignedIn(result["AccessToken"], result.get("RefreshToken") or refresh_token, app)


def password_sign_in(app: CognitoApp, username: str, password: str) -> SignedIn:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        answer = _cognito(app, signed=False).initiate_auth(
            ClientId=app.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
    except ClientError as error:
        raise SignInFailed(error.response.get("Error", {}).get("Message", str(error))) from error
    except BotoCoreError as error:
        raise SignInFailed(str(error)) from error
    return _tokens(answer, app)


def refresh(app: CognitoApp, refresh_token: str) -> SignedIn:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        answer = _cognito(app, signed=app.endpoint_url is not None).initiate_auth(
            ClientId=app.client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": refresh_token},
        )
    except (ClientError, BotoCoreError) as error:
        raise SignInFailed(f"could not renew the token: {error}") from error
    return _tokens(answer, app, refresh_token)


def is_emulator(endpoint: str) -> bool:
    host = urlparse(endpoint).hostname or ""
    return bool(host) and not host.endswith(AWS_HOST_SUFFIXES)


def emulator_sign_in(
    endpoint: str, user: str, password: str = EMULATOR_PASSWORD, region: str = EMULATOR_REGION
) -> SignedIn:
    """A password sign-in to the user pool of ``make run``'s emulator, its app client found by
    name. Changes no password and makes no user: ``make run`` makes its demo users with
    ``EMULATOR_PASSWORD``, ``make token USER=name`` makes others. Refused for anything but an
    emulator: the lookup uses an emulator's placeholder credentials."""
    if not is_emulator(endpoint):
        raise SignInFailed(f"{endpoint} is not an emulator: use --client-id to sign in to AWS")
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        lookup = _cognito(CognitoApp("", region, endpoint), signed=True)
        client_id = _emulator_app_client(lookup)
    except (ClientError, BotoCoreError) as error:
        raise SignInFailed(f"the emulator at {endpoint} refused: {error}") from error
    return password_sign_in(CognitoApp(client_id, region, endpoint), user, password)


def _emulator_app_client(lookup: CognitoIdentityProviderClient) -> str:
    pools = lookup.list_user_pools(MaxResults=60)["UserPools"]
    pool_id = next((p["Id"] for p in pools if p["Name"] == EMULATOR_POOL_NAME), None)
    if pool_id is None:
        raise SignInFailed(
            f"no user pool {EMULATOR_POOL_NAME!r} on the emulator: is `make run` going "
            "(with sign-in on)?"
        )
    clients = lookup.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)
    client_id = next(
        (
            c["ClientId"]
            for c in clients["UserPoolClients"]
            if c["ClientName"] == EMULATOR_CLIENT_NAME
        ),
        None,
    )
    if client_id is None:
        raise SignInFailed(f"the pool has no app client {EMULATOR_CLIENT_NAME!r}")
    return client_id
