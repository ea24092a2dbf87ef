"""Where ``make run``'s emulator listens, so that ``make token`` and ``dev-token`` find it.

``run-local`` does not always get port 5000 (taken, or ``EMULATOR_PORT``): it writes its
emulator's URL to ``.emulator-url`` at the repository's root (ignored by git) and removes it when
it stops. ``EMULATOR_URL_FILE`` names another file (each of the tests' runs has its own).
"""

from __future__ import annotations

import os
from pathlib import Path

RECORD_VARIABLE = "EMULATOR_URL_FILE"
DEFAULT_RECORD = Path(__file__).resolve().parents[1] / ".emulator-url"


class NoEmulator(Exception):
    """No emulator is named, and no ``make run`` has recorded one."""


def record_file() -> Path:
    return Path(os.environ.get(RECORD_VARIABLE) or DEFAULT_RECORD)


def record(url: str) -> None:
    record_file().write_text(f"{url}\n", encoding="utf-8")


def forget(url: str) -> None:
    """Remove the record if it still names ``url``: another ``make run`` may have started since."""
    path = record_file()
    try:
        if path.read_text(encoding="utf-8").strip() == url:
            path.unlink()
    except FileNotFoundError:
        pass


def recorded() -> str | None:
    try:
        return record_file().read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def emulator_to_ask(configured: str | None) -> tuple[str, str]:
    """The emulator's URL and where it came from: ``EMULATOR_URL``, else ``configured`` (the
    Cognito or AWS endpoint of the settings), else ``make run``'s record."""
    given = os.environ.get("EMULATOR_URL")
    if given:
        return given, "EMULATOR_URL"
    if configured:
        return configured, "COGNITO_ENDPOINT_URL or AWS_ENDPOINT_URL"
    found = recorded()
    if found:
        return found, f"make run's, recorded in {record_file()}"
    raise NoEmulator(
        "no emulator to ask: make run is not running (there is no "
        f"{record_file()}); start it, or set EMULATOR_URL to an emulator's URL"
    )
