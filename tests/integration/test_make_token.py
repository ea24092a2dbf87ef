"""``make token`` and ``python -m devtools dev-token`` as a new user meets them: ``make run``'s
emulator found on whatever port it got (by ``make load`` too), no AWS credentials needed, and
one line saying what to set when there is no emulator to ask."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from service.bootstrap import cognito_client
from service.entrypoints.provisioning import create_user_pool
from service.settings import Settings
from tests.integration.processes import (
    ROOT,
    LocalRun,
    coverage_env,
    make_command,
    started_run_local,
)
from tests.integration.test_commands import load_run
from tests.support.ports import free_port

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("integration")]


@pytest.fixture(scope="module")
def make_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRun]:
    """``make run`` with its emulator on a free port (not 5000)."""
    with started_run_local(tmp_path_factory.mktemp("make-token") / "out.log") as run:
        yield run


def a_users_shell(**env: str) -> dict[str, str]:
    """No AWS settings or credentials, as in a fresh terminal; ``env`` added."""
    return {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), **coverage_env(), **env}


def dev_token(user: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "devtools", "dev-token", user],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def signs_in(run: LocalRun, token: str) -> bool:
    headers = {"Authorization": f"Bearer {token}"}
    return requests.get(f"{run.url}/images", headers=headers, timeout=30).status_code == 200


def test_make_token_finds_make_runs_emulator_wherever_it_is(make_run: LocalRun) -> None:
    line = make_command("token", "USER=user456")
    env = a_users_shell(EMULATOR_URL_FILE=str(make_run.emulator_record))

    done = subprocess.run(
        ["/bin/sh", "-c", line], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 0, done.stderr
    assert signs_in(make_run, done.stdout.strip())


def test_make_load_finds_make_runs_emulator_too(make_run: LocalRun) -> None:
    done = load_run(make_run, EMULATOR_URL_FILE=str(make_run.emulator_record))

    (summary,) = re.findall(r"^SUMMARY (\d+) requests.* errors (\d+) ", done.stdout, re.MULTILINE)
    assert (done.returncode, int(summary[1])) == (0, 0), done.stdout[-2000:] + done.stderr[-2000:]


def test_dev_token_needs_no_aws_credentials(make_run: LocalRun) -> None:
    done = dev_token("user123", a_users_shell(AWS_ENDPOINT_URL=make_run.emulator))

    assert done.returncode == 0, done.stderr
    assert signs_in(make_run, done.stdout.strip())


def test_emulator_url_overrides_make_runs_record(make_run: LocalRun, tmp_path: Path) -> None:
    stale = tmp_path / "emulator-url"
    stale.write_text(f"http://127.0.0.1:{free_port()}\n")  # a make run killed long ago
    env = a_users_shell(EMULATOR_URL_FILE=str(stale), EMULATOR_URL=make_run.emulator)

    done = dev_token("user123", env)

    assert done.returncode == 0, done.stderr
    assert signs_in(make_run, done.stdout.strip())


def test_an_emulator_that_is_gone_is_one_line(tmp_path: Path) -> None:
    stale = tmp_path / "emulator-url"
    gone = f"http://127.0.0.1:{free_port()}"
    stale.write_text(f"{gone}\n")

    done = dev_token("user123", a_users_shell(EMULATOR_URL_FILE=str(stale)))

    assert done.returncode != 0
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert gone in line
    assert "make run" in line
    assert "EMULATOR_URL" in line


def test_no_emulator_at_all_says_what_to_set(tmp_path: Path) -> None:
    done = dev_token("user123", a_users_shell(EMULATOR_URL_FILE=str(tmp_path / "none")))

    assert done.returncode != 0
    (line,) = done.stderr.splitlines()
    assert "make run" in line
    assert "EMULATOR_URL" in line


def test_a_password_someone_changed_is_one_line_and_no_token(
    make_run: LocalRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = a_users_shell(EMULATOR_URL=make_run.emulator)
    assert dev_token("frank", env).returncode == 0  # made, with make run's password
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "test")
    settings = Settings.from_env({"AWS_ENDPOINT_URL": make_run.emulator})
    pool = create_user_pool(settings)
    cognito_client(settings).admin_set_user_password(
        UserPoolId=pool.pool_id, Username="frank", Password="Franks-own-1234", Permanent=True
    )

    done = dev_token("frank", env)

    assert (done.returncode, done.stdout) == (1, "")
    (line,) = done.stderr.splitlines()
    assert "frank's password is no longer" in line
