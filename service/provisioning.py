"""Creates the bucket and the table on any endpoint (LocalStack, moto, AWS); idempotent."""

from __future__ import annotations

import logging

from botocore.exceptions import ClientError

from service.adapters.dynamodb.table import TTL_ATTRIBUTE, table_definition
from service.bootstrap import cognito_client, dynamodb_client, s3_client
from service.dev_identity import UserPool, ensure_user_pool, is_emulator
from service.settings import Settings

log = logging.getLogger(__name__)

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


def create_user_pool(settings: Settings) -> UserPool:
    """The emulator's user pool, app client and admin group (refused on AWS: Terraform makes
    the real ones)."""
    endpoint = settings.cognito_endpoint_url or settings.aws_endpoint_url
    return ensure_user_pool(cognito_client(settings), endpoint or "", settings.aws_default_region)
