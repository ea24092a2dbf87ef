"""Sign-in on an emulator: a Cognito user pool, its app client, demo users and their tokens.

``make run`` and docker compose serve the API with sign-in on, against moto's Cognito (which
signs RS256 tokens and serves their JWKS like the real one). None of this ever talks to AWS:
every entry point refuses an endpoint that is not an emulator's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlparse

import msgspec

from service.settings import SettingsError

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient

POOL_NAME = "mpycloud"
CLIENT_NAME = "mpycloud-web"
ADMIN_GROUP = "admins"
DEMO_USERS = ("user123", "user456")
# Every emulator user's password, so that the gallery's sign-in form can be used with what
# ``make run`` prints. Known on purpose: these users live in a local emulator's memory only.
DEV_PASSWORD = "Mpycloud-dev-2026"  # noqa: S105 - meets the pool's password policy


class UserPool(msgspec.Struct, frozen=True):
    """The emulator's Cognito user pool and app client that ``make run`` signs in against."""

    pool_id: str
    client_id: str
    issuer: str
    jwks_url: str

    def environment(self) -> dict[str, str]:
        """The service's settings that trust this pool's tokens."""
        return {
            "AUTH_MODE": "jwt",
            "AUTH_ISSUER": self.issuer,
            "AUTH_JWKS_URL": self.jwks_url,
            "AUTH_CLIENT_IDS": self.client_id,
        }


def is_emulator(endpoint: str | None) -> bool:
    host = urlparse(endpoint or "").hostname or ""
    return bool(host) and not host.endswith((".amazonaws.com", ".aws", ".amazonaws.com.cn"))


def require_emulator(endpoint: str | None) -> str:
    if endpoint is None or not is_emulator(endpoint):
        raise SettingsError(
            "dev tokens come from an emulator only: set COGNITO_ENDPOINT_URL (or "
            f"AWS_ENDPOINT_URL) to one, got {endpoint!r}"
        )
    return endpoint.rstrip("/")


def ensure_user_pool(client: CognitoIdentityProviderClient, endpoint: str, region: str) -> UserPool:
    """The pool named ``POOL_NAME`` with its public app client and admin group; made if
    missing (idempotent)."""
    endpoint = require_emulator(endpoint)
    pool_id = (
        _find_pool(client)
        or client.create_user_pool(
            PoolName=POOL_NAME,
            AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
            Policies={"PasswordPolicy": {"MinimumLength": 12}},
        )["UserPool"]["Id"]
    )
    clients = client.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)
    client_id = (
        next(
            (c["ClientId"] for c in clients["UserPoolClients"] if c["ClientName"] == CLIENT_NAME),
            None,
        )
        or client.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName=CLIENT_NAME,
            GenerateSecret=False,
            ExplicitAuthFlows=[
                "ALLOW_USER_PASSWORD_AUTH",
                "ALLOW_USER_SRP_AUTH",
                "ALLOW_REFRESH_TOKEN_AUTH",
            ],
        )["UserPoolClient"]["ClientId"]
    )
    groups = client.list_groups(UserPoolId=pool_id)["Groups"]
    if not any(group["GroupName"] == ADMIN_GROUP for group in groups):
        client.create_group(UserPoolId=pool_id, GroupName=ADMIN_GROUP)
    return UserPool(
        pool_id=pool_id,
        client_id=client_id,
        issuer=f"https://cognito-idp.{region}.amazonaws.com/{pool_id}",
        jwks_url=f"{endpoint}/{pool_id}/.well-known/jwks.json",
    )


def dev_token(client: CognitoIdentityProviderClient, pool: UserPool, user: str) -> str:
    """A fresh access token for ``user``, made if missing; its password is DEV_PASSWORD."""
    password = DEV_PASSWORD
    try:
        client.admin_get_user(UserPoolId=pool.pool_id, Username=user)
    except client.exceptions.UserNotFoundException:
        client.admin_create_user(UserPoolId=pool.pool_id, Username=user, MessageAction="SUPPRESS")
    client.admin_set_user_password(
        UserPoolId=pool.pool_id, Username=user, Password=password, Permanent=True
    )
    answer = client.initiate_auth(
        ClientId=pool.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user, "PASSWORD": password},
    )
    return answer["AuthenticationResult"]["AccessToken"]


def _find_pool(client: CognitoIdentityProviderClient) -> str | None:
    for page in client.get_paginator("list_user_pools").paginate(PaginationConfig={"PageSize": 60}):
        for pool in page["UserPools"]:
            if pool["Name"] == POOL_NAME:
                return pool["Id"]
    return None
