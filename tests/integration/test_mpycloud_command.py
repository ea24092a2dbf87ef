"""The ``mpycloud`` command and client against ``make run``'s service, as a user runs them:
sign in with the embedded Cognito, upload a folder in parallel, list, tag, download, delete."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from PIL import Image

from devtools.dev_tokens import DEV_PASSWORD
from mpycloud import Client, MemoryResumeStore
from mpycloud.config import CognitoApp
from mpycloud.signin import refresh
from tests.integration.processes import BIN, LocalRun, coverage_env, started_run_local
from tests.support.images import jpeg

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("integration")]
MIB = 1024 * 1024


@dataclass(frozen=True)
class Command:
    """``mpycloud`` with its own config and state folders (a user's home of its own)."""

    run: LocalRun
    home: Path

    def __call__(
        self, *args: str, stdin: str | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        env = {
            "PATH": f"{BIN}:/usr/bin:/bin",
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / "config"),
            "XDG_STATE_HOME": str(self.home / "state"),
            **coverage_env(),
        }
        argv = [str(BIN / "mpycloud"), *args]
        if args[0] != "login":
            argv += ["--url", self.run.url]
        return subprocess.run(
            argv,
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def json(self, *args: str) -> Any:
        done = self(*args, "--json")
        assert done.returncode in (0, 1), done.stderr
        return json.loads(done.stdout)

    def saved(self) -> dict[str, Any]:
        """What ``login`` kept for this server."""
        config = json.loads((self.home / "config" / "mpycloud" / "config.json").read_text())
        kept: dict[str, Any] = config["servers"][self.run.url]
        return kept

    def token(self) -> str:
        return str(self.saved()["token"])


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRun]:
    """``make run`` with sign-in on; multipart sessions from 5 MiB (the lowest threshold) so
    that a small test file takes two parts."""
    log = tmp_path_factory.mktemp("run-local-client") / "out.log"
    with started_run_local(log, MULTIPART_THRESHOLD=str(5 * MIB)) as run:
        yield run


@pytest.fixture(scope="module")
def mpycloud(service: LocalRun, tmp_path_factory: pytest.TempPathFactory) -> Command:
    command = Command(service, tmp_path_factory.mktemp("home"))
    emulator = ["--emulator", service.emulator, "user123"]
    signed_in = command("login", "--url", service.url, *emulator)
    assert signed_in.returncode == 0, signed_in.stderr
    assert "signed in" in signed_in.stdout
    return command


def emulator_admin(service: LocalRun) -> CognitoIdentityProviderClient:
    """The Cognito API of make run's emulator, with the placeholder credentials it takes."""
    return boto3.client(
        "cognito-idp",
        endpoint_url=service.emulator,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def noise_png(path: Path, side: int) -> Path:
    """Random pixels: PNG cannot compress them, so the file is about side * side * 3 bytes."""
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(path)
    return path


def test_a_folder_of_200_images_uploads_with_8_jobs_and_a_second_run_sends_nothing(
    mpycloud: Command, tmp_path: Path
) -> None:
    # GIVEN 200 different small images, in two folders
    for n in range(200):
        folder = tmp_path / "photos" / f"day{n % 2}"
        folder.mkdir(parents=True, exist_ok=True)
        small = Image.new("RGB", (48, 32), (n, 255 - n, (n * 37) % 256))
        small.save(folder / f"img{n:03d}.jpg", "JPEG", comment=f"image {n}")  # bytes all differ

    # WHEN the folder is uploaded with 8 at a time
    first = mpycloud.json("upload", str(tmp_path / "photos"), "-j", "8", "--tags", "batch200")

    # THEN all 200 are uploaded, none failed
    failures = [(f["path"], f["reason"]) for f in first["files"] if f["result"] == "failed"]
    assert failures == []
    assert (first["uploaded"], first["duplicates"]) == (200, 0)
    print(
        f"\n200 images, -j 8: {first['files_per_second']} files/s, "
        f"{first['bytes_per_second']} bytes/s, {first['elapsed_seconds']} s"
    )
    with Client(mpycloud.run.url, mpycloud.token()) as client:
        listed = list(client.iter_images(user_id="user123", tags=["batch200"], limit=100))
    assert len(listed) == 200

    # WHEN it is uploaded again, THEN nothing is sent: all 200 are known duplicates
    second = mpycloud.json("upload", str(tmp_path / "photos"), "-j", "8")
    assert (second["uploaded"], second["duplicates"], second["failed"]) == (0, 200, 0)
    assert second["bytes_sent"] == 0
    assert {f["image_id"] for f in second["files"]} == {i.image_id for i in listed}


def test_files_over_the_request_cap_go_through_sessions_and_multipart_resumes(
    mpycloud: Command, tmp_path: Path
) -> None:
    session_sized = noise_png(tmp_path / "five.png", 1300)  # ~5 MB: over Lambda's 4.5 MB cap
    multipart_sized = noise_png(tmp_path / "nine.png", 1750)  # ~9 MB: two parts of 8 MiB

    class Interrupted(Exception):
        pass

    def stop_in_part_two(done: int, total: int) -> None:
        if done > 8 * MIB:
            raise Interrupted

    resume = MemoryResumeStore()
    with Client(mpycloud.run.url, mpycloud.token(), resume=resume) as client:
        # WHEN a 5 MB file is uploaded, THEN it went through a presigned POST session
        posted = client.upload(session_sized)
        assert (posted.route, posted.image.size_bytes) == ("session", session_sized.stat().st_size)

        # GIVEN a multipart upload interrupted in its second part
        with pytest.raises(Interrupted):
            client.upload(multipart_sized, progress=stop_in_part_two)
        assert len(resume) == 1

        # WHEN it runs again, THEN it sends the second part only and completes
        resumed = client.upload(multipart_sized)
        size = multipart_sized.stat().st_size
        assert (resumed.route, resumed.resumed) == ("multipart", True)
        assert resumed.sent_bytes == size - 8 * MIB
        assert len(resume) == 0

        # AND the stored bytes are the file's
        copy = client.download(resumed.image.image_id, tmp_path / "copy.png")
    digest = hashlib.sha256(multipart_sized.read_bytes()).hexdigest()
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == digest == resumed.image.sha256


def test_ls_get_tag_download_and_rm_through_the_command(mpycloud: Command, tmp_path: Path) -> None:
    folder = tmp_path / "three"
    folder.mkdir()
    for n, color in enumerate(("#102030", "#405060", "#708090")):
        (folder / f"shot{n}.jpg").write_bytes(jpeg((40, 30), color=color))
    uploaded = mpycloud.json("upload", str(folder), "--tags", "trip3", "--description", "Lake")
    assert uploaded["uploaded"] == 3

    listed = mpycloud.json("ls", "--tag", "trip3", "--user", "user123")
    ids = [item["image_id"] for item in listed["items"]]
    assert len(ids) == 3
    assert all(item["description"] == "Lake" for item in listed["items"])
    table = mpycloud("ls", "--tag", "trip3")
    assert table.returncode == 0
    assert ids[0] in table.stdout

    assert mpycloud.json("get", ids[0])["tags"] == ["trip3"]
    tagged = mpycloud.json("tag", *ids, "--add", "best", "--remove", "trip3")
    assert [row["result"] for row in tagged] == ["ok"] * 6
    assert mpycloud.json("ls", "--tag", "best")["items"][0]["tags"] == ["best"]

    fetched = mpycloud("download", *ids, "-o", str(tmp_path / "out"))
    assert fetched.returncode == 0, fetched.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "shot0.jpg",
        "shot1.jpg",
        "shot2.jpg",
    ]
    assert (tmp_path / "out" / "shot1.jpg").read_bytes() == (folder / "shot1.jpg").read_bytes()

    removed = mpycloud.json("rm", *ids)
    assert [row["result"] for row in removed] == ["ok"] * 3
    assert mpycloud.json("ls", "--tag", "best")["items"] == []
    gone = mpycloud("get", ids[0])
    assert gone.returncode == 1
    assert "404" in gone.stderr


def test_signing_in_from_the_command_leaves_the_gallery_password_working(
    mpycloud: Command, service: LocalRun
) -> None:
    # GIVEN user123 signed in with `mpycloud login --emulator` (the module's fixture)
    admin = emulator_admin(service)
    client_id = mpycloud.saved()["cognito"]["client_id"]

    # THEN the password make run prints for the gallery still signs user123 in
    answer = admin.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "user123", "PASSWORD": DEV_PASSWORD},
    )
    assert answer["AuthenticationResult"]["AccessToken"]


def test_without_a_login_the_command_says_how_to_sign_in(service: LocalRun, tmp_path: Path) -> None:
    anonymous = Command(service, tmp_path)("ls")

    assert anonymous.returncode == 1
    assert "mpycloud login" in anonymous.stderr


def test_login_with_a_cognito_password_keeps_a_token_that_renews(
    service: LocalRun, tmp_path: Path
) -> None:
    # GIVEN a user with a password in the user pool (make run's Cognito stands in for AWS's)
    admin = emulator_admin(service)
    (pool_id,) = [
        p["Id"]
        for p in admin.list_user_pools(MaxResults=60)["UserPools"]
        if p["Name"] == "mpycloud"
    ]
    (client_id,) = [
        c["ClientId"]
        for c in admin.list_user_pool_clients(UserPoolId=pool_id)["UserPoolClients"]
        if c["ClientName"] == "mpycloud-web"
    ]
    admin.admin_create_user(UserPoolId=pool_id, Username="carol", MessageAction="SUPPRESS")
    password = "Correct-Horse-Battery-42"
    admin.admin_set_user_password(
        UserPoolId=pool_id, Username="carol", Password=password, Permanent=True
    )
    command = Command(service, tmp_path)
    cognito = ["--client-id", client_id, "--region", "us-east-1"]
    cognito += ["--cognito-endpoint", service.emulator, "carol", "--password-stdin"]

    # WHEN carol signs in with a wrong password, THEN nothing is kept
    refused = command("login", "--url", service.url, *cognito, stdin="wrong-password-123\n")
    assert refused.returncode == 1
    assert not (tmp_path / "config" / "mpycloud" / "config.json").exists()

    # WHEN she signs in with hers, THEN her token and its refresh token are kept
    signed_in = command("login", "--url", service.url, *cognito, stdin=f"{password}\n")
    assert signed_in.returncode == 0, signed_in.stderr
    assert "as carol" in signed_in.stdout
    kept = command.saved()
    assert kept["user"] == "carol"
    assert kept["cognito"]["client_id"] == client_id
    assert command("ls").returncode == 0

    # AND the refresh token renews it: the service takes the new token
    app = CognitoApp(**kept["cognito"])
    renewed = refresh(app, kept["refresh_token"])
    with Client(service.url, renewed.access_token) as client:
        assert client.list_images(user_id="carol").items == []
