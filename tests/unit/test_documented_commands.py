"""Every command the docs and the compose files tell a user to run exists, in the package the
text names: the service's own (in the image) or the dev tools' (in the repository only)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from devtools.__main__ import main as devtools_main
from service.entrypoints.cli import main as service_main

ROOT = Path(__file__).resolve().parents[2]
TEXTS = sorted(
    [ROOT / "README.md", *ROOT.glob("docs/*.md"), *ROOT.glob("docker-compose*.yml")], key=str
)
NAMED = re.compile(r"python -m (service|devtools)\s+([a-z][a-z-]+)")
MAINS: dict[str, Callable[[Sequence[str]], int]] = {
    "service": service_main,
    "devtools": devtools_main,
}


def offered(package: str, capsys: pytest.CaptureFixture[str]) -> set[str]:
    """The commands ``python -m <package>`` takes, as its own --help lists them."""
    with pytest.raises(SystemExit):
        MAINS[package](["--help"])
    listed = re.search(r"\{([a-z,-]+)\}", capsys.readouterr().out)
    assert listed is not None
    return set(listed.group(1).split(","))


@pytest.mark.parametrize("text", TEXTS, ids=lambda path: path.name)
def test_every_command_a_text_names_exists(text: Path, capsys: pytest.CaptureFixture[str]) -> None:
    named = NAMED.findall(text.read_text())
    for package in MAINS:
        wrong = sorted(
            {command for pkg, command in named if pkg == package} - offered(package, capsys)
        )
        assert not wrong, f"{text.name} names `python -m {package}` {wrong}: no such command"
