"""docs/architecture.md stays true to the tree: it names every module of the service and of the
dev tools, the import rules it states are pyproject.toml's contracts, and no Markdown file of
the repository names a module that does not exist."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARCHITECTURE = ROOT / "docs" / "architecture.md"
PACKAGES = ("service", "devtools")
MARKDOWN = sorted(
    {
        ROOT / "README.md",
        ROOT / "client" / "README.md",
        *(ROOT / "docs").glob("*.md"),
        *(ROOT / "bench").glob("*.md"),
    }
)

# ``service/usecases/images.py``, ``service/adapters/dynamodb/``: a path in either package. Not
# the tail of another path (``cluster/service/task``), nor a word ("the service").
MODULE_PATH = re.compile(r"(?<![\w/.-])(?:service|devtools)/[\w./*-]*")
# ``service.entrypoints.lambda_handler.handler``: a dotted name in either package.
DOTTED_NAME = re.compile(r"(?<![\w.@/-])(?:service|devtools)(?:\.[A-Za-z_]\w*)+")
# Durations are measured, never configured, in milliseconds: `make bench` and friends print them.
MILLISECONDS = re.compile(r"\d[\d,.]*\s?(?:ms|µs)\b")


def doc_name(module: Path) -> str:
    """How the doc names a module: its path, or a package's folder with a trailing slash."""
    relative = module.relative_to(ROOT).as_posix()
    return relative.removesuffix("__init__.py") if module.name == "__init__.py" else relative


def modules() -> list[Path]:
    return sorted(
        path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "__pycache__" not in path.parts
    )


def paths_named(text: str) -> set[str]:
    """Module paths a document names, without the sentence's punctuation or a glob's tail."""
    return {match.split("*")[0].rstrip(".-") for match in MODULE_PATH.findall(text)}


def defined_names(module: Path) -> set[str]:
    """Names a module binds at its top level (in ``with``/``if``/``try`` blocks too), so that a
    dotted name may end in a function, class or variable of the module."""
    names: set[str] = set()

    def stores(node: ast.AST) -> set[str]:
        return {
            each.id
            for each in ast.walk(node)
            if isinstance(each, ast.Name) and isinstance(each.ctx, ast.Store)
        }

    def visit(statements: list[ast.stmt]) -> None:
        for statement in statements:
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(statement.name)
            elif isinstance(statement, ast.Import | ast.ImportFrom):
                names.update(alias.asname or alias.name.split(".")[0] for alias in statement.names)
            elif hasattr(statement, "body"):  # with, if, try, for, while: their blocks
                for child in ast.iter_child_nodes(statement):
                    if not isinstance(child, ast.stmt | ast.ExceptHandler):
                        names.update(stores(child))
                for block in ("body", "orelse", "finalbody"):
                    visit(getattr(statement, block, []))
                for handler in getattr(statement, "handlers", []):
                    visit(handler.body)
            else:
                names.update(stores(statement))

    visit(ast.parse(module.read_text(encoding="utf-8")).body)
    return names


def resolves(dotted: str) -> bool:
    """``a.b.c.name``: packages and a module that exist, then at most a name the module binds
    (what follows that name, an attribute of a class, is not checked)."""
    first, *rest = dotted.split(".")
    here = ROOT / first
    for index, part in enumerate(rest):
        if (here / part / "__init__.py").is_file():
            here = here / part
        elif (here / f"{part}.py").is_file():
            after = rest[index + 1 :]
            return not after or after[0] in defined_names(here / f"{part}.py")
        else:
            return part in defined_names(here / "__init__.py")
    return True


def test_the_architecture_doc_names_every_module() -> None:
    named = paths_named(ARCHITECTURE.read_text(encoding="utf-8"))
    missing = [doc_name(module) for module in modules() if doc_name(module) not in named]
    assert not missing, f"docs/architecture.md does not name these modules: {missing}"


@pytest.mark.parametrize("doc", MARKDOWN, ids=lambda doc: doc.relative_to(ROOT).as_posix())
def test_every_module_a_doc_names_exists(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    gone = sorted(
        path
        for path in paths_named(text)
        if not (ROOT / path).exists() or (path.endswith("/") and not (ROOT / path).is_dir())
    )
    unresolved = sorted(name for name in set(DOTTED_NAME.findall(text)) if not resolves(name))
    assert not gone, f"{doc.name} names paths that do not exist: {gone}"
    assert not unresolved, f"{doc.name} names modules or names that do not exist: {unresolved}"


@pytest.mark.parametrize("doc", MARKDOWN, ids=lambda doc: doc.relative_to(ROOT).as_posix())
def test_no_doc_states_a_duration_in_milliseconds(doc: Path) -> None:
    found = MILLISECONDS.findall(doc.read_text(encoding="utf-8"))
    assert not found, f"{doc.name} states measured durations {found}: name the command instead"


def test_the_architecture_doc_states_the_import_contracts() -> None:
    """Each contract of pyproject.toml by its name, and the libraries the inner layers must not
    import, each by name (line breaks are spaces, as Markdown renders them)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    text = " ".join(ARCHITECTURE.read_text(encoding="utf-8").split())
    assert [c["name"] for c in contracts if c["name"] not in text] == []
    forbidden = {
        module
        for contract in contracts
        if contract["type"] == "forbidden"
        for module in contract["forbidden_modules"]
        if module.split(".")[0] not in PACKAGES
    }
    assert sorted(module for module in forbidden if f"`{module}`" not in text) == []


def test_every_package_says_what_lives_there() -> None:
    silent = [
        doc_name(init)
        for init in modules()
        if init.name == "__init__.py"
        and not ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
    ]
    assert not silent, f"packages without a docstring: {silent}"


def test_the_checks_find_what_they_look_for() -> None:
    """The patterns catch what they are for, and leave alone what only looks like it."""
    text = (
        "`service/usecases/images.py`, service/adapters/dynamodb/. Then service/entrypoints/web/"
        "static/* and cluster/service/task, `python -m service sweep`, the service.\n"
        "`service.entrypoints.lambda_handler.handler`, python:service.entrypoints.wsgi:app, "
        "fake_service.py"
    )
    assert paths_named(text) == {
        "service/usecases/images.py",
        "service/adapters/dynamodb/",
        "service/entrypoints/web/static/",
    }
    assert DOTTED_NAME.findall(text) == [
        "service.entrypoints.lambda_handler.handler",
        "service.entrypoints.wsgi",
    ]
    assert resolves("service.entrypoints.lambda_handler.handler")
    assert resolves("service.domain.model.object_key")
    assert not resolves("service.entrypoints.lambda_handler.no_such_handler")
    assert not resolves("service.no_such_module")
    assert doc_name(ROOT / "service" / "domain" / "__init__.py") == "service/domain/"
    durations = MILLISECONDS.findall("about 25 ms, 10ms; 60 s, 5 ms-ish, 3 msgs")
    assert durations == ["25 ms", "10ms", "5 ms"]
