"""The command line and ``make run`` at their edges: ``create-resources`` on an emulator with
sign-in on (the user pool and the settings that trust it), run twice; a busy port; an emulator
that cannot start; a dev token for a user whose password was changed."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

import pytest

from devtools.dev_tokens import PasswordChanged, dev_token
from devtools.run_local import free_port, start_emulator
from service.bootstrap import build_token_verifier, cognito_client
from service.domain.model import Caller
from service.entrypoints.cli import main
from service.entrypoints.provisioning import create_user_pool
from service.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("integration")]


@pytest.fixture
def emulator_env(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The variables a developer sets to run the commands against an emulator, sign-in on."""
    suffix = uuid.uuid4().hex[:8]
    env = {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": moto_server,
        "S3_BUCKET_NAME": f"edges-{suffix}",
        "DYNAMODB_TABLE_NAME": f"edges-{suffix}",
    }
    for name in ("AUTH_MODE", "AUTH_ISSUER", "AUTH_CLIENT_IDS", "COGNITO_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def env_file(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines)


@pytest.mark.usefixtures("restore_logging")
def test_create_resources_writes_the_settings_that_trust_the_emulators_user_pool(
    emulator_env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    auth_env = tmp_path / "auth.env"

    # WHEN create-resources runs on an emulator with sign-in on and no issuer set
    assert main(["create-resources", "--auth-env", str(auth_env)]) == 0

    # THEN it says what it made, and the file holds the AUTH_* settings it printed
    printed = capsys.readouterr().out
    written = env_file(auth_env)
    assert f"bucket {emulator_env['S3_BUCKET_NAME']} and table" in printed
    assert set(written) == {"AUTH_MODE", "AUTH_ISSUER", "AUTH_JWKS_URL", "AUTH_CLIENT_IDS"}
    assert written["AUTH_MODE"] == "jwt"
    for name, value in written.items():
        assert f"{name}={value}\n" in printed
    # AND with them the service verifies the tokens the pool issues
    settings = Settings.from_env({**emulator_env, **written})
    token = dev_token(cognito_client(settings), create_user_pool(settings), "erin")
    assert build_token_verifier(settings).verify(token) == Caller("erin")


@pytest.mark.usefixtures("restore_logging")
def test_create_resources_run_again_keeps_what_exists(
    emulator_env: dict[str, str], tmp_path: Path
) -> None:
    first, second = tmp_path / "first.env", tmp_path / "second.env"

    assert main(["create-resources", "--auth-env", str(first)]) == 0
    assert main(["create-resources", "--auth-env", str(second)]) == 0

    assert env_file(first) == env_file(second)  # the same pool and app client


def test_a_busy_preferred_port_is_replaced_by_a_free_one() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]

        chosen = free_port("127.0.0.1", busy)

        assert chosen != busy
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", chosen))  # free indeed


def test_a_free_preferred_port_is_kept() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])

    assert free_port("127.0.0.1", port) == port


def test_an_emulator_that_cannot_start_is_reported_not_waited_for() -> None:
    # Another program holds the port (and answers nothing): the emulator exits at once.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        with pytest.raises(RuntimeError, match=f"did not start on 127.0.0.1:{port}"):
            start_emulator("127.0.0.1", port)


def test_a_dev_token_never_resets_a_password_that_was_changed(
    emulator_env: dict[str, str],
) -> None:
    settings = Settings.from_env(emulator_env)
    client, pool = cognito_client(settings), create_user_pool(settings)
    user = f"dana-{uuid.uuid4().hex[:6]}"
    dev_token(client, pool, user)  # makes dana, with make run's password
    changed = "Dana-changed-it-1"
    client.admin_set_user_password(
        UserPoolId=pool.pool_id, Username=user, Password=changed, Permanent=True
    )

    with pytest.raises(PasswordChanged, match=user):
        dev_token(client, pool, user)

    signed_in = client.initiate_auth(
        ClientId=pool.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user, "PASSWORD": changed},
    )
    assert signed_in["AuthenticationResult"]["AccessToken"]
