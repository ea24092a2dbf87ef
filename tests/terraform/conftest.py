"""Fixtures that read ``terraform/`` with python-hcl2 (no Terraform binary is needed)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
TERRAFORM_DIR = REPO_ROOT / "terraform"
MODULES = ("storage", "lambda_api", "ecs_service", "auth", "jobs")
# A root module of its own, applied once by an administrator: the deploy pipeline's access.
GITHUB_DEPLOY_DIR = TERRAFORM_DIR / "github_deploy"


def tf_files() -> list[Path]:
    """Every ``.tf`` file of the root module and its modules (not ``.terraform`` caches)."""
    return sorted(p for p in TERRAFORM_DIR.rglob("*.tf") if ".terraform" not in p.parts)


def clean(value: Any) -> Any:
    """python-hcl2 output without its quoting of strings and labels and its bookkeeping keys."""
    if isinstance(value, dict):
        # python-hcl2 adds bookkeeping keys such as __is_block__ and __comments__.
        return {clean(k): clean(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list):
        return [clean(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        document = clean(hcl2.load(handle))
    assert isinstance(document, dict)
    return document


@dataclass
class Module:
    """The blocks of one Terraform module (all ``.tf`` files of one directory)."""

    path: Path
    resources: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    data: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    modules: dict[str, dict[str, Any]] = field(default_factory=dict)
    variables: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    terraform: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def read(cls, path: Path) -> Module:
        module = cls(path)
        for tf in sorted(path.glob("*.tf")):
            parsed = load(tf)
            for kind, target in (("resource", module.resources), ("data", module.data)):
                for block in parsed.get(kind, []):
                    for type_, named in block.items():
                        for name, body in named.items():
                            target[(type_, name)] = body
            for block in parsed.get("module", []):
                module.modules.update(block)
            for block in parsed.get("variable", []):
                module.variables.update(block)
            for block in parsed.get("output", []):
                module.outputs.update(block)
            for block in parsed.get("locals", []):
                module.locals.update(block)
            module.terraform.extend(parsed.get("terraform", []))
        return module

    def resource(self, type_: str, name: str) -> dict[str, Any]:
        assert (type_, name) in self.resources, f"{self.path.name}: no {type_}.{name}"
        return self.resources[(type_, name)]

    def of_type(self, type_: str) -> dict[str, dict[str, Any]]:
        return {name: body for (kind, name), body in self.resources.items() if kind == type_}


@dataclass
class Terraform:
    root: Module
    modules: dict[str, Module]

    def all_modules(self) -> Iterator[Module]:
        yield self.root
        yield from self.modules.values()


@pytest.fixture(scope="session")
def terraform() -> Terraform:
    return Terraform(
        root=Module.read(TERRAFORM_DIR),
        modules={name: Module.read(TERRAFORM_DIR / "modules" / name) for name in MODULES},
    )


@pytest.fixture(scope="session")
def policy_documents(terraform: Terraform) -> dict[str, dict[str, Any]]:
    """Every ``aws_iam_policy_document`` data source, keyed ``<module>/<name>``."""
    return {
        f"{module.path.name}/{name}": body
        for module in terraform.all_modules()
        for (kind, name), body in module.data.items()
        if kind == "aws_iam_policy_document"
    }


@pytest.fixture(scope="session")
def github_deploy() -> Module:
    return Module.read(GITHUB_DEPLOY_DIR)
