"""What importing the Lambda handler leaves for later: boto3 clients, the OpenAPI document, and the
libraries only some requests need (Pillow, PyJWT and cryptography)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from service.bootstrap import LazyClient
from service.entrypoints.api.openapi import document_of
from service.entrypoints.app import create_app
from service.settings import Settings
from tests.support.concurrency import all_at_once

ROOT = Path(__file__).resolve().parents[2]
CURSOR_SECRET = "cold-start-secret-0123456789"


ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_ColdStart"


def settings() -> Settings:
    return Settings(
        aws_endpoint_url="http://127.0.0.1:9",
        cursor_secret=CURSOR_SECRET,
        auth_issuer=ISSUER,
        auth_client_ids=("cold-start-client",),
    )


def test_a_lazy_client_is_created_once_by_the_first_of_many_threads() -> None:
    made: list[object] = []

    def factory() -> object:
        made.append(object())
        return made[-1]

    lazy: LazyClient[object] = LazyClient(factory)
    seen = all_at_once(16, lazy.resolve)

    assert len(made) == 1
    assert seen == made * 16


def test_a_lazy_client_passes_attributes_to_the_client_it_makes() -> None:
    lazy: LazyClient[Any] = LazyClient(lambda: type("Client", (), {"region": "eu-west-3"})())

    assert not lazy.created
    assert lazy.region == "eu-west-3"
    assert lazy.created


def test_the_app_is_made_without_writing_the_openapi_document() -> None:
    app = create_app(settings())

    assert not document_of(app).written
    document = app.test_client().get("/openapi.json").get_json()
    assert document_of(app).written
    assert {"/images", "/images/{image_id}", "/health"} <= set(document["paths"])
    assert [tag["name"] for tag in document["tags"]] == ["images", "uploads", "health"]


def test_the_openapi_document_is_written_once_whichever_threads_ask() -> None:
    document = document_of(create_app(settings()))
    documents = all_at_once(8, document.get)

    assert all(written is documents[0] for written in documents)
    assert len(documents[0]["paths"]) >= 5


# Pillow, BlurHash, PyJWT and cryptography wait for a request that reads image bytes or carries
# a token; flask-wtf and WTForms for the gallery's first form
# (service/entrypoints/web/security.py); python-ulid
# for the first id made or read (service/domain/model.py).
DEFERRED_LIBRARIES = ("PIL", "blurhash", "jwt", "cryptography", "flask_wtf", "wtforms", "ulid")


def test_importing_the_lambda_handler_leaves_for_later_what_a_request_may_not_need() -> None:
    probe = (
        "import gc, json, sys, boto3\n"
        "made = []\n"
        "create = boto3.client\n"
        "boto3.client = lambda *args, **kwargs: made.append(args) or create(*args, **kwargs)\n"
        "collections = []\n"
        "gc.callbacks.append(lambda phase, info: phase == 'start' and collections.append(info))\n"
        "import service.entrypoints.lambda_handler as handler\n"
        "during_import = len(collections)\n"
        "from service.entrypoints.api.openapi import document_of\n"
        "loaded = sorted({name.split('.')[0] for name in sys.modules})\n"
        "dataclasses = sorted(f'{module.__name__}.{name}' for module in list(sys.modules.values())"
        " if module.__name__.startswith('service') for name, value in vars(module).items()"
        " if isinstance(value, type) and value.__module__ == module.__name__"
        " and '__dataclass_fields__' in vars(value))\n"
        "print(json.dumps({'clients': len(made), 'document': document_of(handler.app).written,"
        " 'loaded': loaded, 'dataclasses': dataclasses, 'collections': during_import,"
        " 'collecting': gc.isenabled(), 'frozen': gc.get_freeze_count()}))\n"
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "CURSOR_SECRET": CURSOR_SECRET,
        "AUTH_ISSUER": ISSUER,
        "AUTH_CLIENT_IDS": "cold-start-client",
    }
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )

    found = json.loads(done.stdout.splitlines()[-1])
    assert (found["clients"], found["document"]) == (0, False)
    # Only requests that read image bytes or carry a token load these.
    assert set(DEFERRED_LIBRARIES).isdisjoint(found["loaded"])
    # Python writes and compiles a dataclass's methods as it is defined (about 0.7 ms each in the
    # image): the records are msgspec Structs, and only the settings stay dataclasses.
    # No collection while the app is made; afterwards collection resumes, start-up frozen
    # (service/entrypoints/start_up.py).
    assert (found["collections"], found["collecting"]) == (0, True)
    assert found["frozen"] > 10_000
    assert found["dataclasses"] == [
        "service.settings.ServerSettings",
        "service.settings.Settings",
        "service.settings_reader.EnvironmentReader",
    ]
