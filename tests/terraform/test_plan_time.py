"""Every count and for_each can be decided at plan time, in a fresh account as on a stack that
exists: Terraform refuses a plan ("Invalid count argument", "Invalid for_each argument") when
one depends on an attribute that is known only after apply, such as an id, an ARN or a URL
that AWS generates. Such attributes come from resources and from module outputs; variables,
locals built from variables, and data sources are known when the plan is made.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.terraform.conftest import Module

# `root.name` followed by an optional `.attribute` or `["key"]`, not preceded by a name part (so
# `module.x.y` is read once, as module.x, and `.y` alone is not a reference).
REFERENCE = re.compile(
    r"(?<![\w.])([a-z][a-z0-9_]*)\.([a-z_][a-z0-9_-]*)(?:\.(\w+)|\[\"(\w+)\"\])?"
)
# Symbols whose values Terraform knows before any apply.
KNOWN = {"var", "each", "count", "path", "terraform", "data"}


@dataclass(frozen=True)
class Caller:
    """The module block that calls a module, and the module it sits in."""

    module: Module
    arguments: dict[str, Any]


def text(expression: Any) -> str:
    return expression if isinstance(expression, str) else json.dumps(expression)


def unknown_references(expression: Any, module: Module, caller: Caller | None) -> list[str]:
    """The references in an expression whose value may be unknown until apply."""
    found: list[str] = []
    for root, name, attribute, key in REFERENCE.findall(text(expression)):
        if root == "var":
            if caller is not None and name in caller.arguments:
                found += [
                    f"var.{name} <- {reference}"
                    for reference in unknown_references(caller.arguments[name], caller.module, None)
                ]
        elif root == "local":
            value = module.locals[name]
            if isinstance(value, dict):
                # An object's keys are literal: only the value read out of it can be unknown.
                selected = attribute or key
                if selected and selected in value:
                    value = value[selected]
                else:
                    continue
            found += [
                f"local.{name} <- {reference}"
                for reference in unknown_references(value, module, caller)
            ]
        elif root == "module" or ("_" in root and root not in KNOWN):
            found.append(f"{root}.{name}")
        # Anything else is a for-expression's own symbol (`url` in `for url in ...`).
    return found


def decided_at_plan_time(module: Module, caller: Caller | None) -> dict[str, list[str]]:
    """count/for_each of every resource, data source and module call -> its unknown inputs."""
    blocks: dict[str, dict[str, Any]] = {
        **{f"{kind}.{name}": body for (kind, name), body in module.resources.items()},
        **{f"data.{kind}.{name}": body for (kind, name), body in module.data.items()},
        **{f"module.{name}": body for name, body in module.modules.items()},
    }
    problems: dict[str, list[str]] = {}
    for where, body in blocks.items():
        for argument in ("count", "for_each"):
            if argument in body:
                unknown = unknown_references(body[argument], module, caller)
                if unknown:
                    problems[f"{module.path.name}: {where}.{argument}"] = unknown
    return problems


def callers(root: Module) -> dict[str, Caller]:
    """Each child module's directory name -> the root module's call of it."""
    found = {}
    for body in root.modules.values():
        source = str(body["source"])
        assert source.startswith("./modules/"), source
        found[Path(source).name] = Caller(root, body)
    return found


def test_every_count_and_for_each_is_known_at_plan_time(terraform: Any, github_deploy: Any) -> None:
    calls = callers(terraform.root)
    assert set(calls) == set(terraform.modules)
    problems = decided_at_plan_time(terraform.root, None)
    problems |= decided_at_plan_time(github_deploy, None)
    for name, module in terraform.modules.items():
        problems |= decided_at_plan_time(module, calls[name])
    assert not problems, f"known only after apply: {problems}"


def test_the_check_sees_what_apply_alone_knows(terraform: Any) -> None:
    """A resource's attribute, a module's output, through locals or a module's variable."""
    root = Module(
        Path("root"),
        locals={
            "origins": "${concat(module.api[*].url, var.extra)}",
            "settings": {"bucket": "${aws_s3_bucket.images.bucket}", "level": "${var.level}"},
            "names": {"a": "${aws_iam_policy.a.arn}"},
        },
    )
    for expression in (
        "${length(local.origins) > 0 ? 1 : 0}",
        '${local.settings["bucket"] == "" ? 0 : 1}',
        "${aws_lb.service.arn == null ? 0 : 1}",
    ):
        assert unknown_references(expression, root, None), expression
    # Known: variables, data sources, the keys of an object whose values are not.
    for expression in (
        "${var.enabled ? 1 : 0}",
        "${local.settings.level == 1 ? 1 : 0}",
        "${local.names}",
        "${toset([for name in var.names : name])}",
        "${data.aws_region.current.region == var.region ? 1 : 0}",
    ):
        assert not unknown_references(expression, root, None), expression
    # A child module's variable is as known as what its caller passes.
    caller = Caller(root, {"image_uri": "${aws_ecr_repository.service[0].repository_url}"})
    assert unknown_references("${var.image_uri == null ? 0 : 1}", root, caller)
    assert not unknown_references("${var.other == null ? 0 : 1}", root, caller)
