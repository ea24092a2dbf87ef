"""GET /health/ready: 200 while the bucket and the table answer, 503 as soon as either does not,
on the fakes and on the real adapters (moto's in-process S3 + DynamoDB)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from service.bootstrap import dynamodb_client, s3_client
from service.entrypoints.app import create_app
from service.settings import Settings
from service.usecases.images import ImageService
from tests.support.fakes import InMemoryImageRepository, InMemoryImageStore


def assert_not_ready(response: TestResponse, unanswered: str) -> None:
    assert response.status_code == 503, response.get_json()
    body = response.get_json()
    assert (body["code"], body["status"]) == (503, "Service Unavailable")
    assert unanswered in body["message"]


class TestOnFakes:
    @pytest.fixture
    def on_fakes(self, settings: Settings, fake_service: ImageService) -> FlaskClient:
        return create_app(settings, image_service=fake_service).test_client()

    def test_ready_while_both_answer(self, on_fakes: FlaskClient) -> None:
        response = on_fakes.get("/health/ready")
        assert response.status_code == 200
        assert response.get_json()["status"] == "ready"

    def test_not_ready_when_the_bucket_does_not_answer(
        self, on_fakes: FlaskClient, fake_store: InMemoryImageStore
    ) -> None:
        fake_store.answering = False
        assert_not_ready(on_fakes.get("/health/ready"), "bucket")

    def test_not_ready_when_the_table_does_not_answer(
        self, on_fakes: FlaskClient, fake_repository: InMemoryImageRepository
    ) -> None:
        fake_repository.answering = False
        assert_not_ready(on_fakes.get("/health/ready"), "table")

    def test_ready_again_once_both_answer(
        self, on_fakes: FlaskClient, fake_store: InMemoryImageStore
    ) -> None:
        fake_store.answering = False
        assert_not_ready(on_fakes.get("/health/ready"), "bucket")
        fake_store.answering = True
        assert on_fakes.get("/health/ready").status_code == 200


class TestOnMoto:
    def test_ready_while_both_answer(self, client: FlaskClient) -> None:
        response = client.get("/health/ready")
        assert response.status_code == 200
        assert response.get_json()["status"] == "ready"

    def test_not_ready_without_the_bucket(self, aws: Settings, client: FlaskClient) -> None:
        s3_client(aws).delete_bucket(Bucket=aws.s3_bucket_name)
        assert_not_ready(client.get("/health/ready"), "bucket")

    def test_not_ready_without_the_table(self, aws: Settings, client: FlaskClient) -> None:
        dynamodb_client(aws).delete_table(TableName=aws.dynamodb_table_name)
        assert_not_ready(client.get("/health/ready"), "table")
