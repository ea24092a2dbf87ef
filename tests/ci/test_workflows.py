"""The GitHub workflows run what .ci/run runs, pin what they use, and deploy only as the
Terraform in terraform/github_deploy lets them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"


def workflow(name: str) -> dict[str, Any]:
    document = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def triggers(document: dict[Any, Any]) -> dict[str, Any]:
    # YAML 1.1 reads the key "on" as True.
    found = document.get("on", document.get(True))
    assert isinstance(found, dict)
    return found


def deploy_access_locals() -> dict[str, Any]:
    """The locals of terraform/github_deploy/main.tf, strings unquoted."""
    with (ROOT / "terraform" / "github_deploy" / "main.tf").open(encoding="utf-8") as handle:
        blocks = hcl2.load(handle)["locals"]
    found = {k: v for block in blocks for k, v in block.items() if not k.startswith("__")}
    return {
        k: [s.strip('"') for s in v] if isinstance(v, list) else str(v).strip('"')
        for k, v in found.items()
    }


def run_text(job: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) for step in job.get("steps", []))


# --- The same make targets as .ci/run -----------------------------------------------------


def makefile_rules() -> tuple[dict[str, list[str]], set[str]]:
    """target -> prerequisites, and the targets that have a recipe of their own."""
    rules: dict[str, list[str]] = {}
    with_recipe: set[str] = set()
    current = None
    for line in (ROOT / "Makefile").read_text(encoding="utf-8").splitlines():
        if line.startswith("\t") and current:
            with_recipe.add(current)
            continue
        match = re.match(r"^([a-z][a-z-]*):(?!=)([^#]*)", line)
        current = match[1] if match else None
        if match:
            rules[match[1]] = match[2].split()
    return rules, with_recipe


def expand(targets: set[str]) -> set[str]:
    """Aggregate targets (no recipe, only other targets) replaced by what they run."""
    rules, with_recipe = makefile_rules()
    leaves: set[str] = set()
    for target in targets:
        assert target in rules, f"make {target}: no such target"
        parts = [p for p in rules[target] if p in rules]
        if target in with_recipe or not parts:
            leaves.add(target)
        else:
            leaves |= expand(set(parts))
    return leaves


def make_targets(text: str) -> set[str]:
    found: set[str] = set()
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        for match in re.finditer(r"\bmake\s+((?:[a-z][a-z-]*\s*)+)", line):
            found |= set(match[1].split())
    return found


CI_RUN = (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_ci_runs_the_make_targets_of_ci_run() -> None:
    expected = expand(make_targets(CI_RUN))
    assert "pytest" in expected
    assert "lint" in expected
    assert "workflows-check" in expected
    test = workflow("ci.yml")["jobs"]["test"]
    # make venv only sets up what every other target would set up itself.
    assert expand(make_targets(run_text(test))) - {"venv"} == expected


def test_ci_requires_what_ci_run_requires() -> None:
    env = workflow("ci.yml")["jobs"]["test"]["env"]
    required = set(re.findall(r"\b(REQUIRE_[A-Z_]+)=1\b", CI_RUN))
    assert "REQUIRE_CONTAINERS" in required
    for name in required:
        assert env.get(name) == "1", name
    install = r"apt-get install[^\n]*?((?:[ \t]+[a-z0-9.+-]+)+)[ \t]*$"
    for package in re.findall(install, CI_RUN, re.M):
        for name in package.split():
            if not name.startswith("-"):
                assert name in run_text(workflow("ci.yml")["jobs"]["test"]), name


def test_ci_runs_on_pull_requests_main_and_for_deploy() -> None:
    on = triggers(workflow("ci.yml"))
    assert "pull_request" in on
    assert on["push"]["branches"] == ["main"]
    assert "workflow_call" in on
    deploy = workflow("deploy.yml")["jobs"]
    assert deploy["ci"]["uses"] == "./.github/workflows/ci.yml"
    assert "ci" in deploy["plan"]["needs"]


def test_ci_builds_describes_and_scans_the_image() -> None:
    steps = workflow("ci.yml")["jobs"]["image"]["steps"]
    uses = [str(step.get("uses", "")).split("@")[0] for step in steps]
    assert "anchore/sbom-action" in uses
    assert "anchore/scan-action" in uses
    scan = next(s for s in steps if str(s.get("uses", "")).startswith("anchore/scan-action"))
    assert str(scan["with"].get("fail-build", "true")) == "true"
    assert "docker build" in run_text({"steps": steps})


def test_pip_downloads_are_cached_by_the_requirements_files() -> None:
    setup = next(
        s
        for s in workflow("ci.yml")["jobs"]["test"]["steps"]
        if str(s.get("uses", "")).startswith("actions/setup-python")
    )
    assert setup["with"]["cache"] == "pip"
    paths = set(setup["with"]["cache-dependency-path"].split())
    assert {p.name for p in ROOT.glob("requirements*.txt")} | {"pyproject.toml"} == paths


# --- Pinned actions, no stored keys --------------------------------------------------------


@pytest.mark.parametrize("name", ["ci.yml", "deploy.yml"])
def test_every_action_is_pinned_to_a_commit_with_its_version(name: str) -> None:
    lines = (WORKFLOWS / name).read_text(encoding="utf-8").splitlines()
    uses = [line.split("uses:", 1)[1].strip() for line in lines if re.match(r"\s*-?\s*uses:", line)]
    assert uses
    for use in uses:
        if use.startswith("./"):
            continue
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+", use), use


@pytest.mark.parametrize("name", ["ci.yml", "deploy.yml"])
def test_no_aws_keys_and_no_token_beyond_the_jobs_that_need_one(name: str) -> None:
    document = workflow(name)
    text = (WORKFLOWS / name).read_text(encoding="utf-8")
    assert "aws-access-key-id" not in text
    assert "secrets." not in text
    assert document["permissions"] in ({}, {"contents": "read"})
    for job_name, job in document["jobs"].items():
        permissions = job.get("permissions", document["permissions"])
        assumes_a_role = "aws-actions/configure-aws-credentials" in str(job.get("steps", ""))
        assert (permissions.get("id-token") == "write") == assumes_a_role, job_name
        for step in job.get("steps", []):
            if str(step.get("uses", "")).startswith("actions/checkout"):
                assert step["with"]["persist-credentials"] is False, job_name


# --- Deploy: what terraform/github_deploy trusts -------------------------------------------


def test_deploy_runs_on_release_tags_or_by_hand_with_an_environment() -> None:
    on = triggers(workflow("deploy.yml"))
    assert on["push"] == {"tags": ["release-*"]}
    assert on["workflow_dispatch"]["inputs"]["environment"]["type"] == "environment"
    # Deployed ECR tags must start with release- (terraform/main.tf's lifecycle policy).
    target = run_text(workflow("deploy.yml")["jobs"]["target"])
    assert "^release-" in target
    assert 'tag="release-main-' in target


def test_each_job_assumes_the_role_of_its_environment() -> None:
    jobs = workflow("deploy.yml")["jobs"]
    environment = "${{ needs.target.outputs.environment }}"
    assert jobs["plan"]["environment"]["name"] == f"{environment}-plan"
    assert jobs["apply"]["environment"]["name"] == environment
    # The roles name the same environments (the sub claim).
    deploy_access = deploy_access_locals()
    assert deploy_access["plan_environment"] == "${var.github_environment}-plan"
    assert deploy_access["apply_environment"] == "${var.github_environment}"
    roles = {}
    for name, job in jobs.items():
        for step in job.get("steps", []):
            if str(step.get("uses", "")).startswith("aws-actions/configure-aws-credentials"):
                roles[name] = step["with"]["role-to-assume"]
                assert "audience" not in step["with"]  # sts.amazonaws.com, as the role expects
    assert roles == {
        "plan": "${{ vars.AWS_PLAN_ROLE_ARN }}",
        "apply": "${{ needs.plan.outputs.apply_role_arn }}",
    }


def test_apply_applies_the_saved_plan_after_approval() -> None:
    jobs = workflow("deploy.yml")["jobs"]
    plan, apply = run_text(jobs["plan"]), run_text(jobs["apply"])
    assert "terraform plan -detailed-exitcode -out=tfplan" in plan
    assert "terraform apply tfplan" in apply
    assert "-auto-approve" not in apply
    assert "terraform plan" not in apply
    assert jobs["apply"]["needs"] == ["target", "plan"]


def test_smoke_test_checks_readiness_after_apply() -> None:
    smoke = workflow("deploy.yml")["jobs"]["smoke"]
    assert smoke["needs"] == ["plan", "apply"]
    assert "scripts/smoke_check.py" in run_text(smoke)
    assert "health/ready" in (ROOT / "scripts" / "smoke_check.py").read_text(encoding="utf-8")


# --- Deploy: the saved plan, applied as it was made -----------------------------------------


def step_lines(job: dict[str, Any]) -> list[str]:
    """The job's run lines in order, comments aside."""
    return [
        line.strip()
        for line in run_text(job).splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]


def first_line(lines: list[str], pattern: str) -> int:
    found = [index for index, line in enumerate(lines) if re.search(pattern, line)]
    assert found, pattern
    return found[0]


def test_apply_uses_the_provider_lock_the_plan_was_made_with() -> None:
    """No lock file is committed: an init of its own would pick the newest providers, and
    Terraform refuses a saved plan made with others."""
    jobs = workflow("deploy.yml")["jobs"]
    plan, apply = step_lines(jobs["plan"]), step_lines(jobs["apply"])
    saved = first_line(plan, r"aws s3 cp .*\.terraform\.lock\.hcl .*s3://")
    assert saved > first_line(plan, r"terraform init")
    restored = first_line(apply, r"aws s3 cp .*s3://.*\.terraform\.lock\.hcl")
    init = first_line(apply, r"terraform init")
    assert restored < init
    # init may install what the lock names, and must not change it.
    assert "-lockfile=readonly" in apply[init]
    assert first_line(apply, r"terraform apply tfplan") > init


def test_apply_checks_the_plan_it_was_shown_by_its_sha256() -> None:
    """The plan travels through S3 between the jobs: apply runs it only if it is byte for byte
    the plan the plan job made, and so is the lock file."""
    jobs = workflow("deploy.yml")["jobs"]
    plan, apply = step_lines(jobs["plan"]), step_lines(jobs["apply"])
    for name in ("plan_sha256", "lock_sha256"):
        assert jobs["plan"]["outputs"][name] == f"${{{{ steps.plan.outputs.{name} }}}}"
        assert any(re.search(rf"sha256sum .*>> \"\$GITHUB_OUTPUT\"|{name}=", line) for line in plan)
    env = jobs["apply"]["env"]
    assert env["PLAN_SHA256"] == "${{ needs.plan.outputs.plan_sha256 }}"
    assert env["LOCK_SHA256"] == "${{ needs.plan.outputs.lock_sha256 }}"
    checks = [i for i, line in enumerate(apply) if "sha256sum --check --strict" in line]
    assert len(checks) == 2
    assert max(checks) < first_line(apply, r"terraform init")
    assert '"$PLAN_SHA256  tfplan"' in apply[checks[0]] + apply[checks[1]]


def test_the_reviewer_can_read_the_whole_plan() -> None:
    jobs = workflow("deploy.yml")["jobs"]
    plan = step_lines(jobs["plan"])
    assert any(re.fullmatch(r"terraform show -no-color tfplan > (\S+)", line) for line in plan)
    [shown] = [
        re.fullmatch(r"terraform show -no-color tfplan > (\S+)", line)[1]  # type: ignore[index]
        for line in plan
        if re.fullmatch(r"terraform show -no-color tfplan > (\S+)", line)
    ]
    uploads = [
        step
        for step in jobs["plan"]["steps"]
        if str(step.get("uses", "")).startswith("actions/upload-artifact@")
    ]
    assert len(uploads) == 1
    assert uploads[0]["with"]["path"] == f"terraform/{shown}"
    assert uploads[0]["with"]["if-no-files-found"] == "error"


def test_the_plan_is_saved_under_the_plan_roles_own_session() -> None:
    """The plan role may write only below its session's aws:userid (terraform/github_deploy):
    the key is built from the same id."""
    plan = step_lines(workflow("deploy.yml")["jobs"]["plan"])
    assert any("aws sts get-caller-identity --query UserId --output text" in line for line in plan)
    prefix = first_line(plan, r'plan_key="\$TF_STATE_KEY\.plans/\$')
    assert "$session" in plan[prefix] or "$user_id" in plan[prefix]


# --- Deploy: the image Lambda and ECS can run --------------------------------------------------


def terraform_variable(name: str) -> dict[str, Any]:
    with (ROOT / "terraform" / "variables.tf").open(encoding="utf-8") as handle:
        blocks = hcl2.load(handle)["variable"]
    found = [block[key] for block in blocks for key in block if key.strip('"') == name]
    assert len(found) == 1, name
    variable: dict[str, Any] = found[0]
    return variable


def test_the_image_is_built_for_lambda_and_for_the_architecture_deployed() -> None:
    jobs = workflow("deploy.yml")["jobs"]
    builds = [
        line for line in step_lines(jobs["plan"]) if re.match(r"docker (buildx )?build", line)
    ]
    assert builds
    for build in builds:
        # Lambda refuses an image index with attestations.
        assert "--provenance=false" in build, build
        assert '--platform "$PLATFORM"' in build, build
    assert "linux/amd64" not in "\n".join(builds)
    # One setting chooses the build's platform, the runner, and what Terraform deploys.
    plan = jobs["plan"]
    assert plan["env"]["TF_VAR_image_architecture"] == "${{ needs.target.outputs.architecture }}"
    assert plan["env"]["PLATFORM"] == "${{ needs.target.outputs.platform }}"
    assert plan["runs-on"] == "${{ needs.target.outputs.runner }}"
    assert jobs["apply"]["runs-on"] == "${{ needs.target.outputs.runner }}"
    target = run_text(jobs["target"])
    validation = terraform_variable("image_architecture")["validation"][0]["condition"]
    for architecture, platform in (("x86_64", "linux/amd64"), ("arm64", "linux/arm64")):
        assert f'"{architecture}"' in validation
        assert re.search(rf"{architecture}\)\s*platform={platform}\b", target), architecture
    # TERRAFORM_TFVARS (an auto.tfvars file, which outranks TF_VAR_) may not set what the
    # workflow passes itself.
    passed = {name.removeprefix("TF_VAR_") for name in plan["env"] if name.startswith("TF_VAR_")}
    refused = re.findall(r"\^\[\[:space:\]\]\*\(([a-z_|]+)\)", run_text(plan))
    assert len(refused) == 1
    assert set(refused[0].split("|")) == passed


def test_smoke_checks_the_urls_clients_use() -> None:
    """With a certificate the load balancer's own name (*.elb.amazonaws.com) is covered by no
    certificate: ECS is checked at the configured public URL."""
    jobs = workflow("deploy.yml")["jobs"]
    smoke = next(step for step in jobs["smoke"]["steps"] if "run" in step)
    assert "alb_url" not in str(smoke["env"])
    assert "ecs_url" in smoke["env"]["ECS_URL"]
    with (ROOT / "terraform" / "outputs.tf").open(encoding="utf-8") as handle:
        outputs = {key.strip('"') for block in hcl2.load(handle)["output"] for key in block}
    text = (WORKFLOWS / "deploy.yml").read_text(encoding="utf-8")
    read = set(re.findall(r"terraform output -raw (\w+)", text))
    assert "ecs_url" in read
    assert read <= outputs, sorted(read - outputs)
