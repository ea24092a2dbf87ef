"""Every Terraform file parses (python-hcl2 stands in for the parser of `terraform validate`)."""

from __future__ import annotations

from pathlib import Path

import hcl2
import pytest

TERRAFORM_DIR = Path(__file__).resolve().parents[2] / "terraform"
TF_FILES = sorted(p for p in TERRAFORM_DIR.rglob("*.tf") if ".terraform" not in p.parts)


def test_terraform_tree_is_there() -> None:
    modules = {p.parent.name for p in TF_FILES if p.parent.parent.name == "modules"}
    assert modules == {"storage", "lambda_api", "ecs_service", "auth", "jobs"}
    assert (TERRAFORM_DIR / "terraform.tfvars.example").is_file()


@pytest.mark.parametrize("path", TF_FILES, ids=lambda p: str(p.relative_to(TERRAFORM_DIR)))
def test_tf_file_parses(path: Path) -> None:
    with path.open(encoding="utf-8") as handle:
        parsed = hcl2.load(handle)
    assert parsed, f"{path} is empty"


def test_tfvars_example_parses_and_only_sets_declared_variables() -> None:
    with (TERRAFORM_DIR / "terraform.tfvars.example").open(encoding="utf-8") as handle:
        example = hcl2.load(handle)
    with (TERRAFORM_DIR / "variables.tf").open(encoding="utf-8") as handle:
        declared = {name.strip('"') for block in hcl2.load(handle)["variable"] for name in block}
    assigned = {name for name in example if not name.startswith("__")}
    assert assigned
    assert assigned <= declared, f"undeclared: {sorted(assigned - declared)}"
