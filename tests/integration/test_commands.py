"""The command line: ``sweep`` cleans what crashes leave; ``run-local`` is ``make run``."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from msgspec.structs import replace

from service.adapters.dynamodb.image_repository import DynamoDBImageRepository
from service.bootstrap import build_image_service, dynamodb_client, s3_client
from service.domain.model import ImageStatus, NewImage, new_image_id, utc_now
from service.entrypoints.api.auth import UNRESTRICTED
from service.settings import Settings
from tests.integration.processes import (
    BIN,
    ROOT,
    LocalRun,
    Stack,
    coverage_env,
    started_run_local,
)
from tests.support.images import jpeg, make_image

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("integration")]


def test_sweep_command_removes_leftovers_of_crashed_uploads_and_deletes(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, stack.env[name])
    settings = Settings.from_env(stack.env)
    service = build_image_service(settings)
    repository = DynamoDBImageRepository(dynamodb_client(settings), settings.dynamodb_table_name)
    # GIVEN an upload that crashed after its bytes were written (object in S3, no metadata)
    user = f"sweep-{uuid.uuid4().hex[:6]}"
    crashed = make_image(user=user)
    crashed = replace(crashed, image_id=new_image_id(utc_now() - timedelta(seconds=5)))
    s3_client(settings).put_object(
        Bucket=settings.s3_bucket_name, Key=crashed.object_key, Body=jpeg()
    )
    # AND a delete that crashed after hiding the image (DELETING, object still in S3)
    doomed = service.upload(
        UNRESTRICTED,
        NewImage(user_id=user, original_filename="b.jpg", declared_content_type=None),
        io.BytesIO(jpeg(color="green")),
    ).image
    repository.hide(doomed)
    listing = requests.get(f"{stack.base_url}/images", params={"user_id": user}, timeout=30)
    assert listing.json()["items"] == []

    # WHEN the sweeper runs as a command
    swept = stack.run("sweep", "--grace-seconds", "0")

    # THEN both leftovers are gone: metadata and bytes
    assert swept.returncode == 0, swept.stderr
    report = json.loads(swept.stdout.strip().splitlines()[-1])
    assert report["removed_unpublished"] >= 1
    assert report["finished_deletes"] >= 1
    bucket = s3_client(settings)
    # (the crashed upload's id keeps a tombstone, so that it can never publish)
    assert repository.get(doomed.image_id) is None
    tombstone = repository.get(crashed.image_id)
    assert tombstone is not None
    assert tombstone.status is ImageStatus.DELETING
    for image in (crashed, doomed):
        objects = bucket.list_objects_v2(Bucket=settings.s3_bucket_name, Prefix=image.object_key)
        assert objects.get("KeyCount", 0) == 0


def test_bad_settings_fail_at_start_naming_the_setting(stack: Stack) -> None:
    result = stack.run("create-resources", MAX_FILE_SIZE="ten megabytes")
    assert result.returncode == 2
    assert "MAX_FILE_SIZE" in result.stderr


@pytest.fixture(scope="module")
def run_local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``AUTH_MODE=none make run``: the original, unauthenticated contract."""
    log = tmp_path_factory.mktemp("run-local") / "out.log"
    with started_run_local(log, AUTH_MODE="none") as run:
        yield run.url


@pytest.fixture(scope="module")
def signed_in_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRun]:
    """``make run``: sign-in on, against the embedded Cognito."""
    log = tmp_path_factory.mktemp("run-local-jwt") / "out.log"
    with started_run_local(log) as run:
        yield run


def test_the_original_python_example_works_against_make_run(run_local: str, tmp_path: Path) -> None:
    """The design document's Python example, verbatim but for BASE_URL and the file."""
    BASE_URL = run_local
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(jpeg((40, 30)))

    # Upload image
    with open(photo, "rb") as f:
        files = {"image": f}
        data = {"user_id": "user123", "description": "My photo", "tags": '["nature", "sunset"]'}
        response = requests.post(f"{BASE_URL}/images", files=files, data=data, timeout=30)
        result = response.json()
        image_id = result["image_id"]

    # List images
    response = requests.get(f"{BASE_URL}/images", params={"user_id": "user123"}, timeout=30)
    images = response.json()
    assert [item["image_id"] for item in images["items"]] == [image_id]

    # Get metadata
    response = requests.get(f"{BASE_URL}/images/{image_id}", timeout=30)
    metadata = response.json()
    assert metadata["tags"] == ["nature", "sunset"]
    assert metadata["description"] == "My photo"

    # Download image
    response = requests.get(f"{BASE_URL}/images/{image_id}/download", timeout=30)
    download_url = response.json()["download_url"]
    image_data = requests.get(download_url, timeout=30).content
    assert image_data == photo.read_bytes()

    # Delete image
    response = requests.delete(f"{BASE_URL}/images/{image_id}", timeout=30)
    assert response.status_code == 204
    assert requests.get(f"{BASE_URL}/images/{image_id}", timeout=30).status_code == 404


def test_the_original_curl_examples_work_against_make_run(run_local: str, tmp_path: Path) -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    curl = ["curl", "-s", "-S", "--fail-with-body"]
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(jpeg())

    def run(*args: str) -> str:
        done = subprocess.run(
            [*curl, *args], capture_output=True, text=True, check=True, cwd=tmp_path, timeout=30
        )
        return done.stdout

    uploaded = json.loads(
        run(
            "-X",
            "POST",
            f"{run_local}/images",
            "-F",
            "image=@photo.jpg",
            "-F",
            "user_id=curl-user",
            "-F",
            "description=My photo",
            "-F",
            'tags=["nature", "sunset"]',
        )
    )
    image_id = uploaded["image_id"]
    listed = json.loads(run(f"{run_local}/images?user_id=curl-user&tags=nature"))
    assert [item["image_id"] for item in listed["items"]] == [image_id]
    assert json.loads(run(f"{run_local}/images/{image_id}"))["user_id"] == "curl-user"
    link = json.loads(run(f"{run_local}/images/{image_id}/download"))
    run("-o", "copy.jpg", link["download_url"])
    assert (tmp_path / "copy.jpg").read_bytes() == photo.read_bytes()
    run("-X", "DELETE", f"{run_local}/images/{image_id}")


def dev_token(run: LocalRun, user: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "devtools", "dev-token", user],
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(ROOT),
            "AWS_ENDPOINT_URL": run.emulator,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            **coverage_env(),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


def test_make_run_signs_in_with_the_embedded_cognito(signed_in_run: LocalRun) -> None:
    # GIVEN make run's printed token, and one for another user from the dev-token command
    (token,) = re.findall(r"^export TOKEN=(\S+)$", signed_in_run.output, re.MULTILINE)
    as_user123 = {"Authorization": f"Bearer {token}"}
    as_user456 = {"Authorization": f"Bearer {dev_token(signed_in_run, 'user456')}"}
    base = signed_in_run.url

    # THEN no token is a 401, and uploading in someone else's name a 403
    anonymous = requests.get(f"{base}/images", timeout=30)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer ")
    files = {"image": ("photo.jpg", jpeg(), "image/jpeg")}
    posed = requests.post(
        f"{base}/images", files=files, data={"user_id": "user456"}, headers=as_user123, timeout=30
    )
    assert posed.status_code == 403

    # WHEN user123 uploads, THEN the image is theirs, any signed-in user reads it,
    # only they change it, and a stale If-Match is a 412
    created = requests.post(
        f"{base}/images",
        files=files,
        data={"description": "My photo", "tags": '["nature", "sunset"]'},
        headers=as_user123,
        timeout=30,
    )
    assert created.status_code == 201, created.text
    image = created.json()
    assert image["user_id"] == "user123"
    url = f"{base}/images/{image['image_id']}"
    assert requests.get(url, headers=as_user456, timeout=30).status_code == 200
    assert requests.delete(url, headers=as_user456, timeout=30).status_code == 403
    etag = requests.get(url, headers=as_user123, timeout=30).headers["ETag"]
    changed = requests.patch(
        url, json={"tags": ["b"]}, headers={**as_user123, "If-Match": etag}, timeout=30
    )
    assert changed.status_code == 200
    stale = requests.delete(url, headers={**as_user123, "If-Match": etag}, timeout=30)
    assert stale.status_code == 412
    assert requests.delete(url, headers=as_user123, timeout=30).status_code == 204


def load_run(run: LocalRun, **env: str) -> subprocess.CompletedProcess[str]:
    """``make load``'s command, briefly: 2 users for 4 s."""
    return subprocess.run(
        [
            *(str(BIN / "locust"), "-f", "bench/locustfile.py", "--headless", "--only-summary"),
            *("--host", run.url, "--users", "2", "--spawn-rate", "2", "--run-time", "4s"),
        ],
        cwd=ROOT,
        env={"PATH": f"{BIN}:/usr/bin:/bin", "PYTHONPATH": str(ROOT), **coverage_env(), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_make_load_signs_in_to_make_run_by_itself(signed_in_run: LocalRun) -> None:
    # WHEN make load runs against make run, no TOKEN exported
    done = load_run(signed_in_run, EMULATOR_URL=signed_in_run.emulator)

    # THEN it took a token from the emulator: every answer was the expected one
    (summary,) = re.findall(r"^SUMMARY (\d+) requests.* errors (\d+) ", done.stdout, re.MULTILINE)
    assert (done.returncode, int(summary[1])) == (0, 0), done.stdout[-2000:] + done.stderr[-2000:]
    assert int(summary[0]) > 0


def test_make_load_says_how_to_sign_in_when_it_cannot(signed_in_run: LocalRun) -> None:
    done = load_run(signed_in_run, EMULATOR_URL="http://127.0.0.1:9")

    assert done.returncode == 2
    assert "asks for sign-in" in done.stderr
    assert "export TOKEN=" in done.stderr
    assert "SUMMARY" not in done.stdout  # no request was sent


def test_dev_token_refuses_anything_but_an_emulator() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "devtools", "dev-token", "user123"],
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(ROOT),
            "AWS_ENDPOINT_URL": "https://cognito-idp.us-east-1.amazonaws.com",
            **coverage_env(),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "emulator" in done.stderr


def test_gunicorn_refuses_to_start_with_a_bad_worker_count() -> None:
    started = subprocess.run(
        [
            str(BIN / "gunicorn"),
            "-c",
            "python:service.entrypoints.gunicorn_conf",
            "service.entrypoints.wsgi:app",
        ],
        env={"PATH": str(BIN), "PYTHONPATH": str(ROOT), "GUNICORN_WORKERS": "lots"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode != 0
    assert "GUNICORN_WORKERS must be an integer" in started.stdout + started.stderr


def test_make_run_prints_a_gallery_sign_in_that_works(signed_in_run: LocalRun) -> None:
    # GIVEN the user and password make run printed for the gallery
    (user, password) = re.findall(
        r"^Gallery sign-in: (\w+) or \w+, password (\S+)$", signed_in_run.output, re.MULTILINE
    )[0]
    base = signed_in_run.url
    form_page = requests.get(f"{base}/sign-in", timeout=30)
    (csrf,) = re.findall(r'name="csrf-token" content="([^"]+)"', form_page.text)
    # Secure cookies go back over http://127.0.0.1 in browsers (a secure context); Python's
    # cookie jar does not do that, so they are sent by hand.
    jar = "; ".join(f"{c.name}={c.value}" for c in form_page.cookies)

    # WHEN the form is posted
    signed_in = requests.post(
        f"{base}/sign-in",
        data={"username": user, "password": password, "csrf_token": csrf},
        headers={"Cookie": jar},
        allow_redirects=False,
        timeout=30,
    )

    # THEN the session cookie names the user on the gallery's pages
    assert signed_in.status_code == 302, signed_in.text
    session = signed_in.cookies["__Host-mpycloud-sign-in"]
    grid = requests.get(
        f"{base}/", headers={"Cookie": f"__Host-mpycloud-sign-in={session}"}, timeout=30
    )
    assert grid.status_code == 200
    assert f'id="viewer">{user}<' in grid.text
