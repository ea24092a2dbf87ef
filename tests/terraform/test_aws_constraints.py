"""What AWS refuses at apply time or breaks at run time, though plan-time looks clean.

`terraform validate` and `plan` check references and types, not AWS's own rules for names,
descriptions and quotas; these tests read the HCL for those rules.
"""

from __future__ import annotations

import ast
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
    """The text under a heading of docs/deploy.md, up to the next heading (not code comments)."""
    section: list[str] | None = None
    in_code = False
    for line in DEPLOY_DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and re.match(r"#+ ", line):
            if section is not None:
                break
            if line.split(" ", 1)[1] == title:
                section = []
                continue
        if section is not None:
            section.append(line)
    assert section is not None, f"docs/deploy.md has no section {title!r}"
    return "\n".join(section)


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


# --- ECR lifecycle -----------------------------------------------------------------------

TFVARS_EXAMPLE = Path(__file__).resolve().parents[2] / "terraform" / "terraform.tfvars.example"


def release_tag_prefix(terraform: Any) -> str:
    """The prefix image_tag must start with: the tags Lambda and ECS may run."""
    conditions = [v["condition"] for v in terraform.root.variables["image_tag"]["validation"]]
    prefixes = [
        prefix
        for condition in conditions
        for prefix in re.findall(r'startswith\(var\.image_tag, "([^"]+)"\)', condition)
    ]
    assert len(prefixes) == 1, "image_tag must be validated against one release tag prefix"
    return str(prefixes[0])


def lifecycle_rules(terraform: Any) -> list[dict[str, Any]]:
    policy = terraform.root.resource("aws_ecr_lifecycle_policy", "service")["policy"]
    assert ref(policy) == "jsonencode({rules = local.ecr_lifecycle_rules})"
    rules: list[dict[str, Any]] = terraform.root.locals["ecr_lifecycle_rules"]
    return rules


def could_select(rule: dict[str, Any], prefix: str) -> bool:
    """Whether a rule can select an image with a tag that starts with ``prefix``.

    ECR matches a rule against every tag of an image; a prefix or the literal start of a
    wildcard pattern (up to the first ``*``) that neither starts with ``prefix`` nor is a
    start of it can only match tags that do not start with ``prefix``.
    """
    selection = rule["selection"]
    status = selection["tagStatus"]
    if status == "untagged":
        return False
    if status != "tagged":  # "any" selects tagged images too
        return True
    starts = list(selection.get("tagPrefixList", []))
    starts += [pattern.split("*")[0] for pattern in selection.get("tagPatternList", [])]
    assert starts, rule
    return any(start.startswith(prefix) or prefix.startswith(start) for start in starts)


def test_deployed_images_carry_the_release_tag_prefix(terraform: Any) -> None:
    prefix = release_tag_prefix(terraform)
    example = TFVARS_EXAMPLE.read_text(encoding="utf-8")
    assert re.search(rf'^image_tag\s*=\s*"{re.escape(prefix)}', example, re.M), example
    assert re.search(rf"^TAG={re.escape(prefix)}", doc_section("Deploy"), re.M)


def test_ecr_lifecycle_never_selects_a_deployed_tag(terraform: Any) -> None:
    """A rule that could expire the running image's tag breaks idle Lambdas (they re-pull
    the image when they come back) and ECS scale-out."""
    prefix = release_tag_prefix(terraform)
    rules = lifecycle_rules(terraform)
    for rule in rules:
        assert not could_select(rule, prefix), f"rule {rule['rulePriority']} can expire {prefix}*"
    # It still cleans up: untagged images, and builds that were superseded.
    assert {rule["selection"]["tagStatus"] for rule in rules} == {"untagged", "tagged"}


def test_lifecycle_check_would_see_a_rule_selecting_deployed_tags() -> None:
    def rule(**selection: Any) -> dict[str, Any]:
        return {"rulePriority": 1, "selection": selection}

    assert could_select(rule(tagStatus="any"), "release-")
    assert could_select(rule(tagStatus="tagged", tagPrefixList=["rel"]), "release-")
    assert could_select(rule(tagStatus="tagged", tagPrefixList=["release-2024"]), "release-")
    assert could_select(rule(tagStatus="tagged", tagPatternList=["*-abc"]), "release-")
    assert could_select(rule(tagStatus="tagged", tagPatternList=["release-*"]), "release-")
    assert not could_select(rule(tagStatus="untagged"), "release-")
    assert not could_select(rule(tagStatus="tagged", tagPrefixList=["build-"]), "release-")
    assert not could_select(rule(tagStatus="tagged", tagPatternList=["build-*"]), "release-")


# --- gunicorn keep-alive behind the ALB --------------------------------------------------

GUNICORN_CONF = Path(__file__).resolve().parents[2] / "service" / "entrypoints" / "gunicorn_conf.py"


def module_constant(path: Path, name: str) -> Any:
    """A module-level ``name = <literal>`` read with ast (the module is not imported)."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        if any(isinstance(target, ast.Name) and target.id == name for target in targets):
            return ast.literal_eval(value)
    raise AssertionError(f"{path.name} sets no module-level {name}")


def test_gunicorn_keeps_idle_connections_longer_than_the_load_balancer(terraform: Any) -> None:
    """AWS: the target's keep-alive must exceed the ALB idle timeout, or the target may close
    a connection the ALB is about to reuse, and the client gets a 502."""
    keepalive = module_constant(GUNICORN_CONF, "keepalive")
    load_balancer = terraform.modules["ecs_service"].resource("aws_lb", "service")
    idle_timeout = load_balancer.get("idle_timeout", 60)  # the ALB's default
    assert isinstance(keepalive, int)
    assert isinstance(idle_timeout, int), "keep the ALB idle timeout a literal to compare"
    assert keepalive > idle_timeout


# --- name_prefix -------------------------------------------------------------------------

# ECR repository names (CreateRepository): lowercase path components joined by . _ or -.
ECR_NAME = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*")
# Load balancer names: up to 32 letters, digits and hyphens, no hyphen at either end.
ALB_NAME = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?")
# SQS queue names (CreateQueue): up to 80 letters, digits, hyphens and underscores.
QUEUE_NAME = re.compile(r"[a-zA-Z0-9_-]{1,80}")
NAME_PREFIXES_ACCEPTED = ["mpycloud", "ab", "a1", "my-app", "a-b-c", "sgapp", "internalapp"]
NAME_PREFIXES_REJECTED = [
    "my-",  # trailing hyphen: invalid ECR name
    "my--app",  # doubled hyphen: invalid ECR name
    "sg-app",  # security group names must not start with sg-
    "sg",  # ... which "sg-svc-alb" would
    "internal-app",  # load balancer names must not start with internal-
    "internal",  # ... which "internal-svc" would
    "a",
    "a" * 22,
    "1ab",
    "My-app",
    "my_app",
]


def render(expression: str, values: dict[str, str]) -> str:
    """A name expression with ``${var.x}`` and ``${substr(var.x, a, b)}`` filled in."""

    def one(match: re.Match[str]) -> str:
        inner = match.group(0)[2:-1].strip()
        if inner in values:
            return values[inner]
        substr = re.fullmatch(r"substr\((var\.\w+),\s*(\d+),\s*(\d+)\)", inner)
        assert substr, f"cannot render {inner!r}"
        start, length = int(substr.group(2)), int(substr.group(3))
        return values[substr.group(1)][start : start + length]

    return INTERPOLATION.sub(one, expression)


def names_from_prefix(terraform: Any, prefix: str) -> dict[str, str]:
    """Every name that AWS constrains and the stack derives from name_prefix."""
    root = {"var.name_prefix": prefix}
    ecs = terraform.modules["ecs_service"]
    ecs_vars = {"var.name": render(terraform.root.modules["ecs_service"]["name"], root)}
    ecs_vars["local.worker_name"] = render(ecs.locals["worker_name"], ecs_vars)
    names = {"ecr": render(terraform.root.resource("aws_ecr_repository", "service")["name"], root)}
    names["alb"] = render(ecs.resource("aws_lb", "service")["name"], ecs_vars)
    for group, body in ecs.of_type("aws_security_group").items():
        names[f"security_group.{group}"] = render(body["name"], ecs_vars)
    jobs = terraform.modules["jobs"]
    jobs_vars = {"var.name": render(terraform.root.modules["jobs"]["name"], root)}
    jobs_vars["local.dead_letters_name"] = render(jobs.locals["dead_letters_name"], jobs_vars)
    for queue, body in jobs.of_type("aws_sqs_queue").items():
        names[f"queue.{queue}"] = render(body["name"], jobs_vars)
    return names


def names_are_valid(names: dict[str, str]) -> bool:
    return (
        bool(ECR_NAME.fullmatch(names["ecr"]))
        and bool(ALB_NAME.fullmatch(names["alb"]))
        and not names["alb"].startswith("internal-")
        and all(
            len(name) <= 255 and not name.lower().startswith("sg-")
            for kind, name in names.items()
            if kind.startswith("security_group.")
        )
        and all(
            QUEUE_NAME.fullmatch(name) for kind, name in names.items() if kind.startswith("queue.")
        )
    )


def validation_accepts(variable: dict[str, Any], name: str, value: str) -> bool:
    """Evaluates validation conditions made of ``&&``-joined terms of the forms used here:
    ``can(regex("P", var.x))``, ``length(var.x) <= N`` (or ``>=``) and
    ``!startswith("${var.x}-", "S")`` (or ``startswith(var.x, "S")``)."""
    this = f"var.{name}"
    starts = re.compile(rf'(!?)startswith\(("\$\{{{this}\}}-"|{this}), "(.*)"\)')
    for validation in variable["validation"]:
        for term in ref(validation["condition"]).split("&&"):
            term = term.strip()
            if match := re.fullmatch(rf'can\(regex\("(.*)", {this}\)\)', term):
                ok = re.search(match.group(1), value) is not None
            elif match := re.fullmatch(rf"length\({this}\) (<=|>=) (\d+)", term):
                limit = int(match.group(2))
                ok = len(value) <= limit if match.group(1) == "<=" else len(value) >= limit
            elif match := starts.fullmatch(term):
                subject = value + "-" if match.group(2).startswith('"') else value
                ok = subject.startswith(match.group(3)) != bool(match.group(1))
            else:
                raise AssertionError(f"cannot evaluate {term!r}")
            if not ok:
                return False
    return True


def test_name_prefix_validation_keeps_every_derived_name_valid(terraform: Any) -> None:
    variable = terraform.root.variables["name_prefix"]
    assert validation_accepts(variable, "name_prefix", variable["default"])
    for prefix in NAME_PREFIXES_ACCEPTED + NAME_PREFIXES_REJECTED:
        accepted = validation_accepts(variable, "name_prefix", prefix)
        names = names_from_prefix(terraform, prefix)
        if accepted:
            assert names_are_valid(names), f"name_prefix {prefix!r} is accepted: {names}"
        assert accepted == (prefix in NAME_PREFIXES_ACCEPTED), prefix


# --- Target group replacement ------------------------------------------------------------


def test_target_group_can_be_replaced_while_in_use(terraform: Any) -> None:
    """A fixed name makes any replacement fail with ResourceInUse / DuplicateTargetGroupName:
    the new group needs the old one's name while a listener still uses the old one."""
    ecs = terraform.modules["ecs_service"]
    group = ecs.resource("aws_lb_target_group", "service")
    assert "name" not in group, "a fixed name blocks create-before-destroy"
    (lifecycle,) = group["lifecycle"]
    assert lifecycle["create_before_destroy"] is True
    for prefix in NAME_PREFIXES_ACCEPTED:
        module_name = render(
            terraform.root.modules["ecs_service"]["name"], {"var.name_prefix": prefix}
        )
        # The provider appends 26 characters to name_prefix, within the 32 a name may have.
        name_prefix = render(group["name_prefix"], {"var.name": module_name})
        assert 1 <= len(name_prefix) <= 6, name_prefix
        assert re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9-]*", name_prefix), name_prefix


# --- DynamoDB key arguments and the provider pin -----------------------------------------

# The aws provider added key_schema blocks to global_secondary_index in 6.29.0 and deprecated
# the index's hash_key/range_key then; the table's own hash_key/range_key are not deprecated
# and have no key_schema replacement in 6.x.
GSI_KEY_SCHEMA_SINCE = (6, 29)


def aws_provider_floor(module: Any) -> tuple[int, int]:
    (settings,) = module.terraform
    (providers,) = settings["required_providers"]
    match = re.fullmatch(r"~> (\d+)\.(\d+)(?:\.\d+)?", providers["aws"]["version"])
    assert match, providers["aws"]["version"]
    return int(match.group(1)), int(match.group(2))


def test_table_keys_use_arguments_the_pinned_provider_has(terraform: Any) -> None:
    storage = terraform.modules["storage"]
    table = storage.resource("aws_dynamodb_table", "images")
    assert "key_schema" not in table, "no aws provider 6.x has a table-level key_schema"
    assert table["hash_key"]
    assert table["range_key"]
    for index in table.get("global_secondary_index", []):
        if "key_schema" in index:
            floor = aws_provider_floor(storage)
            assert floor >= GSI_KEY_SCHEMA_SINCE, f"key_schema needs aws ~> 6.29, not {floor}"
            assert not {"hash_key", "range_key"} & set(index), index["name"]
        else:
            assert index["hash_key"], index["name"]
