"""docs/deploy.md's deploy and destroy steps use the variables that terraform/ declares."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

DEPLOY_DOC = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"


def variables_named(text: str) -> set[str]:
    """Variables set in the doc: ``-var name=...``, ``-var "name=..."``, `` `name = value` ``."""
    on_command_line = re.findall(r"""-var\s+["']?([a-z][a-z0-9_]*)=""", text)
    inline = re.findall(r"`([a-z][a-z0-9_]*) = [^`]+`", text)
    return set(on_command_line) | set(inline)


def test_the_doc_sets_only_declared_variables(terraform: Any) -> None:
    named = variables_named(DEPLOY_DOC.read_text(encoding="utf-8"))
    assert {"image_tag", "enable_lambda", "ecr_force_delete"} <= named
    undeclared = named - set(terraform.root.variables)
    assert not undeclared, f"docs/deploy.md sets undeclared variables: {sorted(undeclared)}"


def test_the_doc_describes_the_variables_that_change_what_is_deployed(terraform: Any) -> None:
    """Reserved concurrency, deletion guards, the cap on URL lifetimes and who may sign up and
    read are explained there."""
    text = DEPLOY_DOC.read_text(encoding="utf-8")
    for name in (
        "lambda_reserved_concurrency",
        "lambda_sweeper_reserved_concurrency",
        "ecr_force_delete",
        "download_url_ttl",
        "image_tag",
        "allow_self_sign_up",
        "public_read",
        "admin_group",
        "user_pool_deletion_protection",
    ):
        assert name in terraform.root.variables, name
        assert f"`{name}" in text, f"docs/deploy.md does not mention {name}"
