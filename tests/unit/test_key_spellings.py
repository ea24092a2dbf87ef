"""``keys.py`` is the only module that spells a DynamoDB key prefix; everything else calls it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from service.adapters.dynamodb import keys

ROOT = Path(__file__).resolve().parents[2]
KEYS_MODULE = Path(keys.__file__).resolve()
PREFIXES = [spelling for spelling in keys.SPELLINGS if spelling.endswith("#")]
WORDS = [spelling for spelling in keys.SPELLINGS if not spelling.endswith("#")]
# A prefix starts a key or follows another key part; "#s" in an expression is no prefix.
PREFIX_PATTERN = re.compile(
    r"(?<![A-Za-z0-9])(" + "|".join(re.escape(prefix) for prefix in PREFIXES) + ")"
)


def string_literals(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def spellings_in(path: Path) -> list[str]:
    return [
        f"{path.name}:{line}: {text[:60]!r}"
        for line, text in string_literals(path)
        if PREFIX_PATTERN.search(text) or text in WORDS
    ]


def test_no_module_but_keys_spells_a_key_prefix() -> None:
    sources = [
        path
        for folder in ("service", "tests")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path.resolve() != KEYS_MODULE
    ]
    assert len(sources) > 20
    assert [found for path in sources for found in spellings_in(path)] == []


def test_the_guard_catches_a_spelled_prefix(tmp_path: Path) -> None:
    offender = tmp_path / "offender.py"
    offender.write_text(
        f'PARTITION = f"{keys.USER_TAG}{{user}}#{{tag}}"\n'
        f'SORT = "{keys.META}"\n'
        'EXPRESSION = "SET #s = :new"\n'
    )
    assert sorted(spellings_in(offender)) == [
        f"offender.py:1: {keys.USER_TAG!r}",
        f"offender.py:2: {keys.META!r}",
    ]
