"""The ``mpycloud`` command against the fake service: login, upload, ls, tag, rm."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

import mpycloud.cli.common
from mpycloud.cli import main
from mpycloud.config import CognitoApp, Config, Credentials, config_path
from mpycloud.signin import SignedIn
from tests.client.fake_service import API, FakeService, error
from tests.client.files import png_file
from tests.client.tokens import fake_jwt


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    code = main(list(argv))
    return code, json.loads(capsys.readouterr().out)


def test_login_keeps_the_token_in_a_private_file_and_later_commands_use_it(
    cli: FakeService, capsys: pytest.CaptureFixture[str]
) -> None:
    token = fake_jwt("alice")

    assert main(["login", "--url", API, "--token", token]) == 0

    path = config_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    saved = Config.load()
    assert saved.default_url == API
    assert (saved.servers[API].token, saved.servers[API].user) == (token, "alice")
    capsys.readouterr()
    cli.seen.clear()
    assert run_json(capsys, "ls", "--json") == (0, {"items": [], "next_cursor": None})
    assert cli.seen[0].headers["Authorization"] == f"Bearer {token}"


def test_login_refuses_a_token_the_service_refuses(
    cli: FakeService, capsys: pytest.CaptureFixture[str]
) -> None:
    cli.fail("GET", "/images", error(401, "The token has expired"))

    assert main(["login", "--url", API, "--token", fake_jwt("alice")]) == 1

    assert "expired" in capsys.readouterr().err
    assert not config_path().exists()


def test_upload_walks_folders_and_a_second_run_sends_nothing(
    cli: FakeService, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    album = tmp_path / "album"
    for n in range(5):
        png_file(album / "sub", f"p{n}.png", 600 + n)
    png_file(album, "big.png", 4_000)  # through an upload session
    png_file(album / ".cache", "hidden.png", 700)
    (album / "notes.txt").write_text("not an image")
    main(["login", "--url", API, "--token", fake_jwt("alice")])
    capsys.readouterr()

    code, first = run_json(capsys, "upload", str(album), "-j", "3", "--tags", "trip", "--json")

    assert code == 0
    assert (first["uploaded"], first["duplicates"], first["failed"]) == (6, 0, 0)
    assert first["bytes_sent"] == sum(600 + n for n in range(5)) + 4_000
    assert {f["route"] for f in first["files"]} == {"direct", "session"}
    assert all(image["tags"] == ["trip"] for image in cli.images.values())

    cli.seen.clear()
    code, second = run_json(capsys, "upload", str(album), "-j", "3", "--json")

    assert code == 0
    assert (second["uploaded"], second["duplicates"], second["bytes_sent"]) == (0, 6, 0)
    assert [r.method for r in cli.seen] == ["GET"]  # the owner's listing, nothing sent

    code, third = run_json(capsys, "upload", str(album), "--send-all", "--json")

    assert (third["uploaded"], third["duplicates"]) == (0, 6)
    assert third["bytes_sent"] == first["bytes_sent"]  # sent: the service found them duplicates


def test_upload_reports_each_failure_with_its_reason(
    cli: FakeService, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    png_file(tmp_path / "in", "a.png", 500)
    odd = tmp_path / "in" / "b.jpg"
    odd.write_bytes(b"not really a jpeg" * 10)
    cli.fail("POST", "/images", error(400, "The file is not an image"))
    main(["login", "--url", API, "--token", fake_jwt("alice")])
    capsys.readouterr()

    code = main(
        [
            "upload",
            "-j",
            "1",
            str(tmp_path / "in" / "b.jpg"),
            str(tmp_path / "in" / "a.png"),
            str(tmp_path / "missing.png"),
        ]
    )

    printed = capsys.readouterr().out
    assert code == 1
    assert "The file is not an image" in printed
    assert "No such file" in printed
    assert "uploaded   │     1" in printed
    assert "failed     │     2" in printed


def test_tag_and_rm_report_every_id(
    cli: FakeService, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["login", "--url", API, "--token", fake_jwt("alice")])
    main(["upload", str(png_file(tmp_path, "a.png", 500)), "--tags", "old", "--json"])
    (image_id,) = cli.images
    capsys.readouterr()

    code, tagged = run_json(
        capsys, "tag", image_id, "--add", "new,blue", "--remove", "old", "--json"
    )
    assert code == 0
    assert cli.images[image_id]["tags"] == ["new", "blue"]
    assert [row["action"] for row in tagged] == ["add new,blue", "remove old"]

    code, removed = run_json(capsys, "rm", image_id, "01M8MISSING000000000000000", "--json")
    assert code == 1
    assert [row["result"] for row in removed] == ["ok", "not_found"]
    assert cli.images == {}


def test_a_kept_cognito_token_about_to_expire_is_renewed_first(
    cli: FakeService, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    app = CognitoApp("client-1", "eu-west-1")
    old, new = fake_jwt("bob", expires_in=10), fake_jwt("bob", expires_in=3600)
    Config(API, {API: Credentials(old, "bob", "refresh-1", app)}).save()
    asked: list[tuple[CognitoApp, str]] = []

    def renew(given: CognitoApp, refresh_token: str) -> SignedIn:
        asked.append((given, refresh_token))
        return SignedIn(new, refresh_token, given)

    monkeypatch.setattr(mpycloud.cli.common, "refresh", renew)

    assert main(["ls"]) == 0

    assert asked == [(app, "refresh-1")]
    assert cli.seen[0].headers["Authorization"] == f"Bearer {new}"
    assert Config.load().servers[API] == Credentials(new, "bob", "refresh-1", app)
