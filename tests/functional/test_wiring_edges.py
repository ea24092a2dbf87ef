"""The wiring at its edges, on moto's in-process S3 + DynamoDB: the scheduled Lambda sweep, links
that name a public S3 endpoint, resources in another region, and sign-in settings that are
missing."""

from __future__ import annotations

import importlib
import io
import sys
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest

from service.adapters.dynamodb.image_repository import DynamoDBImageRepository
from service.bootstrap import build_image_service, build_sign_in, dynamodb_client
from service.domain.model import NewImage
from service.entrypoints.api.auth import UNRESTRICTED
from service.entrypoints.app import create_app
from service.entrypoints.provisioning import create_resources
from service.settings import Settings, SettingsError
from tests.support.aws import small_settings
from tests.support.forms import upload_form
from tests.support.gallery import KEYS, get
from tests.support.images import jpeg
from tests.support.tokens import verifier_for

PUBLIC_S3 = "http://localhost:4566"


def lambda_module(aws: Settings, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``service.entrypoints.lambda_handler`` imported as Lambda imports it, with the test's
    resources."""
    monkeypatch.setenv("S3_BUCKET_NAME", aws.s3_bucket_name)
    monkeypatch.setenv("DYNAMODB_TABLE_NAME", aws.dynamodb_table_name)
    monkeypatch.setenv("CURSOR_SECRET", aws.cursor_secret or "")
    monkeypatch.setenv("AUTH_MODE", "none")
    monkeypatch.setenv("DEDUPE", "off")
    monkeypatch.delitem(sys.modules, "service.entrypoints.lambda_handler", raising=False)
    module = importlib.import_module("service.entrypoints.lambda_handler")
    monkeypatch.delitem(sys.modules, "service.entrypoints.lambda_handler")
    return module


@pytest.mark.usefixtures("restore_logging")
def test_the_scheduled_sweep_finishes_an_interrupted_delete(
    aws: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an image whose delete stopped after hiding it: metadata and bytes are both left
    images = build_image_service(aws)
    new = NewImage(user_id="sweep", original_filename="a.jpg", declared_content_type=None)
    image = images.upload(UNRESTRICTED, new, io.BytesIO(jpeg())).image
    DynamoDBImageRepository(dynamodb_client(aws), aws.dynamodb_table_name).hide(image)
    module = lambda_module(aws, monkeypatch)

    # WHEN EventBridge Scheduler invokes the sweep handler
    report = module.sweep_handler({"source": "aws.scheduler"}, None)

    # THEN the delete is finished and the report says what was done
    assert report == {
        "removed_unpublished": 0,
        "finished_deletes": 1,
        "orphan_renditions": 0,
        "expired_uploads": 0,
    }
    s3 = boto3.client("s3", region_name="us-east-1")
    listed = s3.list_objects_v2(Bucket=aws.s3_bucket_name, Prefix=image.object_key)
    assert listed.get("KeyCount", 0) == 0
    assert module.sweep_handler({}, None)["finished_deletes"] == 0


class TestPublicEndpoint:
    @pytest.fixture
    def settings(self) -> Settings:
        # docker compose: the service reaches S3 on its own name, browsers on localhost.
        return small_settings(s3_public_endpoint_url=PUBLIC_S3)

    def test_links_handed_to_clients_name_the_public_endpoint(self, aws: Settings) -> None:
        client = create_app(aws).test_client()
        created = client.post(
            "/images", data=upload_form(jpeg()), content_type="multipart/form-data"
        )
        assert created.status_code == 201, created.get_json()
        image_id = created.get_json()["image_id"]

        download = client.get(f"/images/{image_id}/download").get_json()["download_url"]
        thumbnail = client.get(f"/images/{image_id}/thumbnail?size=256").headers["Location"]
        ticket = client.post(
            "/uploads",
            json={
                "filename": "b.jpg",
                "content_type": "image/jpeg",
                "size": 10,
                "user_id": "user123",
            },
        ).get_json()

        for link in (download, thumbnail, ticket["url"]):
            assert link.startswith(f"{PUBLIC_S3}/{aws.s3_bucket_name}"), link
        assert urlsplit(download).path.endswith(f"/originals/{image_id}")

    def test_the_gallery_lets_pages_reach_the_public_endpoint(self, aws: Settings) -> None:
        policy = get(create_app(aws).test_client(), "/").headers["Content-Security-Policy"]

        assert f"img-src 'self' data: {PUBLIC_S3};" in policy
        assert f"connect-src 'self' {PUBLIC_S3};" in policy


def test_resources_outside_us_east_1_are_made_there_and_made_once(aws: Settings) -> None:
    elsewhere = small_settings(
        aws_default_region="eu-west-3", s3_bucket_name="paris-bucket", dynamodb_table_name="p"
    )

    create_resources(elsewhere)
    create_resources(elsewhere)  # a second run keeps what exists

    s3 = boto3.client("s3", region_name="eu-west-3")
    assert s3.get_bucket_location(Bucket="paris-bucket")["LocationConstraint"] == "eu-west-3"
    dynamodb = boto3.client("dynamodb", region_name="eu-west-3")
    assert dynamodb.describe_table(TableName="p")["Table"]["TableStatus"] == "ACTIVE"


def test_sign_in_without_an_issuer_stops_the_start_naming_what_is_missing() -> None:
    with pytest.raises(SettingsError, match="AUTH_ISSUER and AUTH_CLIENT_IDS"):
        create_app(small_settings(auth_mode="jwt"))
    with pytest.raises(SettingsError, match="AUTH_CLIENT_IDS"):
        create_app(small_settings(auth_mode="jwt", auth_issuer="https://issuer.example.com"))


def test_the_gallerys_sign_in_needs_an_app_client() -> None:
    with pytest.raises(SettingsError, match="AUTH_CLIENT_IDS"):
        build_sign_in(small_settings(auth_mode="jwt"), verifier_for(KEYS))
