"""What AWS refuses at apply time or breaks at run time, though plan-time looks clean.

`terraform validate` and `plan` check references and types, not AWS's own rules for names,
descriptions and quotas; these tests read the HCL for those rules.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

# EC2 allows only these characters in security group and rule descriptions (CreateSecurityGroup,
# AuthorizeSecurityGroupIngress/Egress): a-z A-Z 0-9, spaces, and ._-:/()#,@[]+=&;{}!$*
EC2_DESCRIPTION = re.compile(r"[a-zA-Z0-9. _\-:/()#,@\[\]+=&;{}!$*]{0,255}")
SECURITY_GROUP_RESOURCES = (
    "aws_security_group",
    "aws_security_group_rule",
    "aws_vpc_security_group_ingress_rule",
    "aws_vpc_security_group_egress_rule",
)
INTERPOLATION = re.compile(r"\$\{[^}]*\}")


# --- Security group descriptions ---------------------------------------------------------


def security_group_descriptions(terraform: Any) -> dict[str, str]:
    found = {}
    for module in terraform.all_modules():
        for kind in SECURITY_GROUP_RESOURCES:
            for name, body in module.of_type(kind).items():
                where = f"{module.path.name}: {kind}.{name}"
                if "description" in body:
                    found[where] = body["description"]
                for direction in ("ingress", "egress"):  # inline rules of aws_security_group
                    for index, rule in enumerate(body.get(direction, [])):
                        if "description" in rule:
                            found[f"{where}.{direction}[{index}]"] = rule["description"]
    return found


def test_security_group_descriptions_use_only_characters_ec2_accepts(terraform: Any) -> None:
    descriptions = security_group_descriptions(terraform)
    assert len(descriptions) >= 7
    for where, description in descriptions.items():
        # Interpolated names are built from name_prefix: lowercase letters, digits, hyphens.
        text = INTERPOLATION.sub("name-1", description)
        assert EC2_DESCRIPTION.fullmatch(text), (
            f"{where}: EC2 rejects {description!r} (InvalidParameterValue)"
        )


# --- Lambda reserved concurrency ---------------------------------------------------------


def ref(expression: Any) -> str:
    """``${var.x}`` -> ``var.x``."""
    text = str(expression)
    match = re.fullmatch(r"\$\{(.*)\}", text, flags=re.DOTALL)
    return match.group(1).strip() if match else text


def test_lambda_functions_reserve_no_concurrency_unless_asked(terraform: Any) -> None:
    """Lambda refuses a reservation that leaves less than its unreserved minimum; accounts
    with a small concurrency quota (often 10 for new ones) cannot reserve even 1."""
    module = terraform.modules["lambda_api"]
    call = terraform.root.modules["lambda_api"]
    for function in ("api", "sweeper"):
        body = module.resource("aws_lambda_function", function)
        setting = ref(body["reserved_concurrent_executions"])
        assert setting.startswith("var."), f"{function}: reserves {setting} unconditionally"
        module_variable = module.variables[setting.removeprefix("var.")]
        assert module_variable.get("default", "required") is None, (function, module_variable)
        passed = ref(call[setting.removeprefix("var.")])
        assert passed.startswith("var."), (function, passed)
        root_variable = terraform.root.variables[passed.removeprefix("var.")]
        assert root_variable["default"] is None, (function, root_variable)


# --- terraform destroy -------------------------------------------------------------------

DEPLOY_DOC = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"
# Variables that must be changed (and applied) before `terraform destroy` can delete everything.
DESTROY_GUARD = re.compile(r"(deletion_protection|force_destroy|force_delete)$")


def doc_section(title: str) -> str:
    text = DEPLOY_DOC.read_text(encoding="utf-8")
    match = re.search(rf"^#+ {re.escape(title)}\n(.*?)(?=^#+ |\Z)", text, re.M | re.S)
    assert match, f"docs/deploy.md has no section {title!r}"
    return match.group(1)


def test_ecr_repository_can_be_deleted_with_its_images(terraform: Any) -> None:
    """Without force_delete, destroy stops at RepositoryNotEmptyException once images exist."""
    repository = terraform.root.resource("aws_ecr_repository", "service")
    assert ref(repository.get("force_delete")) == "var.ecr_force_delete"
    variable = terraform.root.variables["ecr_force_delete"]
    assert variable["type"] == "bool"
    assert variable["default"] is False


def test_destroy_steps_name_every_variable_that_guards_deletion(terraform: Any) -> None:
    guards = {name for name in terraform.root.variables if DESTROY_GUARD.search(name)}
    assert {"ecr_force_delete", "bucket_force_destroy", "table_deletion_protection"} <= guards
    steps = doc_section("Destroy")
    for name in sorted(guards):
        assert f"{name} = " in steps or f"{name}=" in steps, f"destroy steps omit {name}"
