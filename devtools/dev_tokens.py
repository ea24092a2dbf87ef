"""Dev tokens: the demo users of ``make run`` and fresh access tokens from an emulator's
Cognito. Dev-only: the service never imports this package, and the image does not hold it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from service.entrypoints.provisioning import UserPool

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient

DEMO_USERS = ("user123", "user456")
# Every emulator user's password, so that the gallery's sign-in form can be used with what
# ``make run`` prints. Known on purpose: these users live in a local emulator's memory only.
DEV_PASSWORD = "Mpycloud-dev-2026"  # noqa: S105 - meets the pool's password policy


class PasswordChanged(Exception):
    """The user's password is no longer DEV_PASSWORD: someone chose their own, which stays."""

    def __init__(self, user: str) -> None:
        super().__init__(
            f"{user}'s password is no longer {DEV_PASSWORD} and is left as it is: sign in with "
            f"it (mpycloud login --emulator URL {user} --password-stdin)"
        )


def dev_token(client: CognitoIdentityProviderClient, pool: UserPool, user: str) -> str:
    """A fresh access token for ``user``; a missing user is made, with DEV_PASSWORD. A password
    someone changed is never reset: :class:`PasswordChanged`."""
    try:
        client.admin_get_user(UserPoolId=pool.pool_id, Username=user)
    except client.exceptions.UserNotFoundException:
        client.admin_create_user(UserPoolId=pool.pool_id, Username=user, MessageAction="SUPPRESS")
        client.admin_set_user_password(
            UserPoolId=pool.pool_id, Username=user, Password=DEV_PASSWORD, Permanent=True
        )
    try:
        answer = client.initiate_auth(
            ClientId=pool.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": user, "PASSWORD": DEV_PASSWORD},
        )
    except client.exceptions.NotAuthorizedException as refused:
        raise PasswordChanged(user) from refused
    return answer["AuthenticationResult"]["AccessToken"]
