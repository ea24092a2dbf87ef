"""Every checkov suppression in terraform/ names one check and says why it is skipped."""

from __future__ import annotations

import re
from pathlib import Path

TERRAFORM_DIR = Path(__file__).resolve().parents[2] / "terraform"
SKIP = re.compile(r"#\s*checkov:skip=(?P<check>[^:\s]*)(?::(?P<reason>.*))?")


def suppressions() -> list[tuple[str, str, str]]:
    found = []
    for path in sorted(TERRAFORM_DIR.rglob("*.tf")):
        for line in path.read_text(encoding="utf-8").splitlines():
            match = SKIP.search(line)
            if match:
                found.append((path.name, match["check"], (match["reason"] or "").strip()))
    return found


def test_every_skip_names_a_check_and_gives_a_reason() -> None:
    skips = suppressions()
    assert skips
    for file_name, check, reason in skips:
        assert re.fullmatch(r"CKV2?_AWS_\d+", check), f"{file_name}: {check!r}"
        assert len(reason) >= 30, f"{file_name}: {check} needs a real reason, got {reason!r}"


def test_no_global_skips() -> None:
    """Checks are skipped per resource (inline, with a reason), never for the whole tree."""
    config = (TERRAFORM_DIR / ".checkov.yaml").read_text(encoding="utf-8")
    assert "skip-check" not in config
    assert "soft-fail" not in config
