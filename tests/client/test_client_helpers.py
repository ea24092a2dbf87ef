"""The client's small pieces: tokens, walking folders, sniffing types, file names, config."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from devtools import dev_tokens
from mpycloud.config import CognitoApp, Config, Credentials
from mpycloud.downloads import filename_from
from mpycloud.files import CONTENT_TYPE_BY_SUFFIX, sniff_content_type, walk
from mpycloud.signin import SignInFailed, emulator_sign_in, is_emulator
from mpycloud.tokens import expires_soon, token_claims, token_subject
from service.domain.model import ACCEPTED_CONTENT_TYPES
from service.entrypoints import provisioning as dev_identity
from service.settings import LAMBDA_MAX_REQUEST_BODY
from tests.client.files import PNG_SIGNATURE
from tests.client.tokens import fake_jwt
from tests.support.images import encode


def test_a_token_names_its_user_and_expiry_without_being_checked() -> None:
    token = fake_jwt("alice", expires_in=30)

    assert token_subject(token) == "alice"
    assert token_claims(token)["token_use"] == "access"
    assert expires_soon(token, margin=60)
    assert not expires_soon(fake_jwt("alice", expires_in=3600), margin=60)
    assert token_claims("not-a-jwt") == {}
    assert token_subject(None) == ""
    assert not expires_soon("opaque")


def test_walking_takes_image_files_under_folders_once_and_named_files_always(
    tmp_path: Path,
) -> None:
    for name in ("b.JPG", "a.png", "deep/c.webp", ".hidden/d.png", "notes.txt", ".e.gif"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(PNG_SIGNATURE)
    named = tmp_path / "notes.txt"

    found = list(walk([tmp_path, tmp_path / "a.png", named]))

    relative = [str(p.relative_to(tmp_path)) for p in found]
    assert relative == ["a.png", "b.JPG", "deep/c.webp", "notes.txt"]


def test_the_type_is_sniffed_from_the_bytes_like_the_service_does(tmp_path: Path) -> None:
    for fmt, expected in (
        ("JPEG", "image/jpeg"),
        ("PNG", "image/png"),
        ("GIF", "image/gif"),
        ("WEBP", "image/webp"),
    ):
        data = encode(fmt)
        path = tmp_path / "misnamed.bin"
        path.write_bytes(data)
        assert sniff_content_type(path) == expected
    unknown = tmp_path / "photo.jpg"
    unknown.write_bytes(b"????")
    assert sniff_content_type(unknown) == "image/jpeg"  # by name, for the service to judge
    text = tmp_path / "notes.txt"
    text.write_bytes(b"????")
    assert sniff_content_type(text) is None


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    """An ISO base media file's first box, as HEIF and AVIF files begin."""
    body = b"ftyp" + major + b"\0\0\0\0" + b"".join(compatible)
    return (4 + len(body)).to_bytes(4, "big") + body + b"\0\0\0\x08meta"


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (ftyp(b"heic", b"mif1", b"heic"), "image/heic"),
        (ftyp(b"heix", b"mif1"), "image/heic"),
        (ftyp(b"avif", b"mif1", b"miaf"), "image/avif"),
        (ftyp(b"mif1", b"mif1", b"avif"), "image/avif"),
        (ftyp(b"mif1", b"mif1", b"miaf"), "image/heif"),
        (ftyp(b"isom", b"mp41"), None),  # a video
    ],
)
def test_heif_and_avif_are_told_by_their_brands(
    tmp_path: Path, head: bytes, expected: str | None
) -> None:
    path = tmp_path / "misnamed.bin"
    path.write_bytes(head)

    assert sniff_content_type(path) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("IMG_0001.HEIC", "image/heic"),
        ("photo.heif", "image/heif"),
        ("photo.avif", "image/avif"),
        ("photo.webp", "image/webp"),
    ],
)
def test_the_type_is_guessed_from_the_name_when_the_bytes_do_not_tell(
    tmp_path: Path, name: str, expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(b"????")

    assert sniff_content_type(path) == expected
    assert list(walk([tmp_path])) == [path]  # and folders' walks take them


@pytest.mark.parametrize(
    ("disposition", "expected"),
    [
        ("attachment; filename=\"a.jpg\"; filename*=UTF-8''%C3%A9t%C3%A9.jpg", "été.jpg"),
        ('attachment; filename="plain.png"', "plain.png"),
        ("attachment; filename*=UTF-8''..%2F..%2Fetc%2Fpasswd", "passwd"),
        ("attachment; filename*=UTF-8''..", "fallback"),
        (None, "fallback"),
    ],
)
def test_download_names_are_bare_file_names(disposition: str | None, expected: str) -> None:
    assert filename_from(disposition, "fallback") == expected


def test_the_config_round_trips_and_stays_private(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "config.json"
    app = CognitoApp("client-1", "eu-west-1", None)
    config = Config(
        "https://api.example", {"https://api.example": Credentials("t", "bob", "r", app)}
    )

    config.save(path)

    assert Config.load(path) == config
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Config.load(tmp_path / "absent.json") == Config()


def test_emulator_sign_in_refuses_aws_endpoints() -> None:
    assert is_emulator("http://127.0.0.1:5000")
    assert not is_emulator("https://cognito-idp.us-east-1.amazonaws.com")
    with pytest.raises(SignInFailed, match="not an emulator"):
        emulator_sign_in("https://cognito-idp.us-east-1.amazonaws.com", "user123")


def test_the_client_agrees_with_the_service_on_its_conventions() -> None:
    from mpycloud.signin import EMULATOR_CLIENT_NAME, EMULATOR_PASSWORD, EMULATOR_POOL_NAME
    from mpycloud.uploads import DIRECT_UPLOAD_LIMIT, FORM_ALLOWANCE

    # The emulator's pool and app client, as the service makes them, and its users' password.
    assert (EMULATOR_POOL_NAME, EMULATOR_CLIENT_NAME) == (
        dev_identity.POOL_NAME,
        dev_identity.CLIENT_NAME,
    )
    assert EMULATOR_PASSWORD == dev_tokens.DEV_PASSWORD
    # A direct upload, with its form, fits under the service's Lambda request cap.
    assert DIRECT_UPLOAD_LIMIT + FORM_ALLOWANCE <= LAMBDA_MAX_REQUEST_BODY
    # Every type the service takes is one the client knows by its file name.
    assert set(ACCEPTED_CONTENT_TYPES) <= set(CONTENT_TYPE_BY_SUFFIX.values())
