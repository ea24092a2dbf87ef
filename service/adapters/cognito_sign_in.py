"""CredentialExchange with Amazon Cognito's USER_PASSWORD_AUTH flow (boto3, injected client).

The app client must be public (no secret: a SECRET_HASH would be needed) and allow
ALLOW_USER_PASSWORD_AUTH; Terraform's public client and the emulator's pool both do. A wrong
user name and a wrong password answer alike, as Cognito does with user existence errors off.
Signing out revokes the refresh token (RevokeToken).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from service.domain.errors import SignInFailed, StorageUnavailable
from service.domain.model import Tokens

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient

WRONG_CREDENTIALS = "Wrong user name or password"
REVOKE_FAILED = "Could not revoke the sign-in"
_REFUSALS = {
    "NotAuthorizedException": WRONG_CREDENTIALS,
    "UserNotFoundException": WRONG_CREDENTIALS,
    "PasswordResetRequiredException": "This account must reset its password first",
    "UserNotConfirmedException": "This account is not confirmed yet",
}


class CognitoSignIn:
    def __init__(self, client: CognitoIdentityProviderClient, client_id: str) -> None:
        self._client = client
        self._client_id = client_id

    def sign_in(self, username: str, password: str) -> Tokens:
        try:
            answer = self._client.initiate_auth(
                ClientId=self._client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": username, "PASSWORD": password},
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in _REFUSALS:
                raise SignInFailed(_REFUSALS[code]) from None
            raise StorageUnavailable(f"Could not sign in ({code or 'ClientError'})") from error
        except BotoCoreError as error:
            raise StorageUnavailable(f"Could not sign in ({type(error).__name__})") from error
        if "ChallengeName" in answer:
            # A first sign-in with a temporary password, MFA, ...: steps the gallery does not
            # offer; the account's owner completes them elsewhere (Cognito's hosted UI, the CLI).
            raise SignInFailed(f"This account must complete {answer['ChallengeName']} first")
        result = answer["AuthenticationResult"]
        return Tokens(
            access_token=result["AccessToken"],
            id_token=result["IdToken"],
            expires_in=result["ExpiresIn"],
            refresh_token=result.get("RefreshToken"),
        )

    def revoke(self, refresh_token: str) -> None:
        # The app client must have token revocation on (Terraform's has); revoking a token that
        # has expired, or was revoked before, is no error.
        try:
            self._client.revoke_token(Token=refresh_token, ClientId=self._client_id)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "") or "ClientError"
            raise StorageUnavailable(REVOKE_FAILED, detail=code) from error
        except BotoCoreError as error:
            raise StorageUnavailable(REVOKE_FAILED, detail=type(error).__name__) from error
