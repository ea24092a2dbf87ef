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


# --- The doc against the code ------------------------------------------------------------

TERRAFORM_DIR = DEPLOY_DOC.parents[1] / "terraform"
IDENTITY = DEPLOY_DOC.parents[1] / "service" / "entrypoints" / "web" / "identity.py"
CLI = DEPLOY_DOC.parents[1] / "service" / "entrypoints" / "cli.py"


def paragraphs(text: str) -> list[str]:
    return [part for part in re.split(r"\n\s*\n", text) if part.strip()]


def test_the_doc_says_the_gallery_needs_https_on_ecs() -> None:
    """Browsers refuse __Host- (Secure) cookies over plain HTTP from anything but localhost:
    on ECS without a certificate the gallery cannot sign anyone in."""
    [cookie] = re.findall(r'^COOKIE = "(__Host-[^"]+)"', IDENTITY.read_text(encoding="utf-8"), re.M)
    text = DEPLOY_DOC.read_text(encoding="utf-8")
    assert any(
        "__Host-" in part and "plain HTTP" in part and "alb_certificate_arn" in part
        for part in paragraphs(text)
    ), f"docs/deploy.md: the gallery's {cookie} cookie over plain HTTP"


def test_the_doc_names_every_prefix_the_service_may_write(terraform: Any) -> None:
    policy = terraform.modules["storage"].data[("aws_iam_policy_document", "service_data_access")]
    prefixes = {
        match
        for statement in policy["statement"]
        for resource in statement["resources"]
        for match in re.findall(r"^\$\{aws_s3_bucket\.images\.arn\}/([a-z]+/)\*$", resource)
    }
    assert prefixes >= {"originals/", "renditions/", "incoming/"}
    text = DEPLOY_DOC.read_text(encoding="utf-8")
    [iam] = re.findall(r"^- \*\*IAM\*\*.*?(?=^- |\n\n)", text, re.M | re.S)
    for prefix in prefixes:
        assert f"`{prefix}*`" in iam, prefix


def test_the_doc_shows_every_terraform_directory() -> None:
    text = DEPLOY_DOC.read_text(encoding="utf-8")
    [tree] = re.findall(r"```\n(terraform/ .*?)```", text, re.S)
    directories = {
        path.parent.relative_to(TERRAFORM_DIR).as_posix()
        for path in TERRAFORM_DIR.rglob("*.tf")
        if ".terraform" not in path.parts and path.parent != TERRAFORM_DIR
    }
    assert "github_deploy" in directories
    for directory in directories:
        assert re.search(rf"^\s+{re.escape(directory)}\s", tree, re.M), directory


def test_the_doc_lists_every_checkov_skip() -> None:
    """The table of skipped checks: each check, as many times as terraform/ skips it."""
    skipped: dict[str, int] = {}
    for path in TERRAFORM_DIR.rglob("*.tf"):
        for check in re.findall(
            r"#checkov:skip=(CKV2?_AWS_\d+):", path.read_text(encoding="utf-8")
        ):
            skipped[check] = skipped.get(check, 0) + 1
    text = DEPLOY_DOC.read_text(encoding="utf-8")
    listed: dict[str, int] = {}
    for row in re.findall(r"^\| (CKV[^|]+)\|", text, re.M):
        for check, times in re.findall(r"(CKV2?_AWS_\d+)(?: \(x(\d+)\))?", row):
            listed[check] = listed.get(check, 0) + int(times or 1)
    assert listed == skipped


def test_the_doc_says_a_deploy_cuts_off_a_job_longer_than_fargate_lets_ecs_wait(
    terraform: Any,
) -> None:
    """ECS kills a stopping worker after its stopTimeout, which Fargate caps: a longer job is
    cut off on a deploy, and runs again once its visibility timeout ends."""
    ecs = terraform.modules["ecs_service"]
    cap = ecs.locals["fargate_max_stop_timeout"]
    assert "local.fargate_max_stop_timeout" in ecs.locals["worker_stop_timeout"]
    text = DEPLOY_DOC.read_text(encoding="utf-8")
    assert any(
        f"{cap} s" in part
        and "`stopTimeout`" in part
        and "cut off on a deploy" in part
        and "visibility timeout" in part
        and "again" in part
        for part in (" ".join(paragraph.split()) for paragraph in paragraphs(text))
    ), f"docs/deploy.md: a job longer than Fargate's {cap} s stop timeout"


def test_the_doc_says_listing_dead_letters_takes_an_operators_credentials(
    policy_documents: dict[str, dict[str, Any]],
) -> None:
    """No role of the stack may read the dead-letter queue (its policies name the jobs queue
    only): the command that lists it runs with someone else's credentials."""
    dead_letters = "${aws_sqs_queue.dead_letters.arn}"
    for name, document in policy_documents.items():
        for statement in document.get("statement", []):
            assert dead_letters not in statement.get("resources", []), name
    assert re.search(r'add_parser\(\s*"dead-letters"', CLI.read_text(encoding="utf-8"))
    text = DEPLOY_DOC.read_text(encoding="utf-8")
    assert any(
        "`python -m service dead-letters`" in part
        and "operator's credentials" in part
        and "`sqs:ReceiveMessage` on the dead-letter queue" in part
        for part in (" ".join(paragraph.split()) for paragraph in paragraphs(text))
    ), "docs/deploy.md: who may list the dead letters"
