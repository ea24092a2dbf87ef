"""Creates the bucket and the table on any endpoint (LocalStack, moto, AWS), and on an
emulator the Cognito user pool that compose and ``make run`` sign in against; idempotent.

Emulator-only steps refuse any endpoint that is AWS's own: Terraform makes the real ones.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import msgspec
from botocore.exceptions import ClientError

from service.adapters.dynamodb.table import TTL_ATTRIBUTE, table_definition
from service.bootstrap import cognito_client, dynamodb_client, s3_client, sqs_client
from service.settings import Settings, SettingsError

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient

log = logging.getLogger(__name__)

# The jobs queue of emulators (Terraform's variables say the same on AWS): a job gets
# MAX_RECEIVES deliveries, each hidden from other workers for VISIBILITY_SECONDS.
MAX_RECEIVES = 5
VISIBILITY_SECONDS = 1800
DEAD_LETTERS_SUFFIX = "-dead-letters"
POOL_NAME = "mpycloud"
CLIENT_NAME = "mpycloud-web"
ADMIN_GROUP = "admins"


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
            "an emulator's user pool only: set COGNITO_ENDPOINT_URL (or "
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


# The gallery's page sends upload bytes to the bucket itself, cross-origin: a presigned POST,
# or a PUT per part whose ETag it must read.
GALLERY_UPLOAD_METHODS = ("POST", "PUT")
GALLERY_UPLOAD_EXPOSED_HEADERS = ("ETag",)


def create_resources(settings: Settings) -> None:
    s3 = s3_client(settings)
    bucket = settings.s3_bucket_name
    try:
        if settings.aws_default_region == "us-east-1":
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(
                Bucket=bucket,
                CreateBucketConfiguration={
                    "LocationConstraint": settings.aws_default_region  # type: ignore[typeddict-item]
                },
            )
        log.info("created bucket %s", bucket)
    except ClientError as error:
        if error.response["Error"]["Code"] != "BucketAlreadyOwnedByYou":
            raise
        log.info("bucket %s exists", bucket)
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )

    if is_emulator(settings.aws_endpoint_url):
        # Locally any origin: the page's port varies. On AWS, terraform/main.tf's rule names
        # the deployed origins (tests/terraform checks that the two allow the same).
        s3.put_bucket_cors(
            Bucket=bucket,
            CORSConfiguration={
                "CORSRules": [
                    {
                        "AllowedOrigins": ["*"],
                        "AllowedMethods": list(GALLERY_UPLOAD_METHODS),
                        "AllowedHeaders": ["*"],
                        "ExposeHeaders": list(GALLERY_UPLOAD_EXPOSED_HEADERS),
                        "MaxAgeSeconds": 3600,
                    }
                ]
            },
        )

    dynamodb = dynamodb_client(settings)
    table = settings.dynamodb_table_name
    try:
        dynamodb.create_table(**table_definition(table))
        log.info("creating table %s", table)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceInUseException":
            raise
        log.info("table %s exists", table)
    dynamodb.get_waiter("table_exists").wait(
        TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    ttl = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
        dynamodb.update_time_to_live(
            TableName=table,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
        )
    create_queues(settings)


def create_queues(settings: Settings) -> None:
    """The jobs queue and its dead letters (idempotent: CreateQueue with the same attributes
    answers the existing queue)."""
    sqs = sqs_client(settings)
    dead = sqs.create_queue(
        QueueName=settings.jobs_queue_name + DEAD_LETTERS_SUFFIX,
        Attributes={"MessageRetentionPeriod": str(14 * 86_400)},
    )["QueueUrl"]
    dead_arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = {"deadLetterTargetArn": dead_arn, "maxReceiveCount": MAX_RECEIVES}
    sqs.create_queue(
        QueueName=settings.jobs_queue_name,
        Attributes={
            "VisibilityTimeout": str(VISIBILITY_SECONDS),
            "RedrivePolicy": json.dumps(redrive, separators=(",", ":")),
        },
    )
    log.info("queue %s ready", settings.jobs_queue_name)


def create_user_pool(settings: Settings) -> UserPool:
    """The emulator's user pool, app client and admin group (refused on AWS: Terraform makes
    the real ones)."""
    endpoint = settings.cognito_endpoint_url or settings.aws_endpoint_url
    return ensure_user_pool(cognito_client(settings), endpoint or "", settings.aws_default_region)


def _find_pool(client: CognitoIdentityProviderClient) -> str | None:
    for page in client.get_paginator("list_user_pools").paginate(PaginationConfig={"PageSize": 60}):
        for pool in page["UserPools"]:
            if pool["Name"] == POOL_NAME:
                return pool["Id"]
    return None
