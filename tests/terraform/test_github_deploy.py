"""The deploy pipeline's access (terraform/github_deploy): who may assume its roles, and what
they may do, read from the HCL with sample variables and checked against AWS's reference."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

import pytest

from tests.terraform.iam_reference import (
    ACCOUNT,
    PARTITION,
    REGION,
    Resolver,
    Statement,
    access_level,
    allows,
    arn_formats,
    condition_keys,
    exists,
    fits,
    matches,
)

OWNER, REPOSITORY, ENVIRONMENT = "octo-org", "mpycloud", "production"
PREFIX = "mpycloud"
STATE_BUCKET = "octo-terraform-state"
VPC = "vpc-0123456789abcdef0"
VARIABLES = {
    "github_owner": OWNER,
    "github_repository": REPOSITORY,
    "github_environment": ENVIRONMENT,
    "region": REGION,
    "name_prefix": PREFIX,
    "state_bucket": STATE_BUCKET,
    "state_key": None,
    "vpc_id": VPC,
    "enable_ecs": True,
}
IAM = f"arn:{PARTITION}:iam::{ACCOUNT}"
BOUNDARY_ARN = f"{IAM}:policy/github-actions/{PREFIX}-workload-boundary"
DEPLOY_ROLES = {
    "plan": f"{IAM}:role/github-actions/{PREFIX}-deploy-plan",
    "apply": f"{IAM}:role/github-actions/{PREFIX}-deploy-apply",
}
STATE_OBJECT = f"arn:aws:s3:::{STATE_BUCKET}/{PREFIX}/terraform.tfstate"
TOKEN = "token.actions.githubusercontent.com"
# IAM's policy variable for the caller's role id and session name, as aws_iam_policy_document
# spells it (Terraform would read ${...} as its own).
OWN_SESSION = "&{aws:userid}"


@pytest.fixture(scope="module")
def resolver(github_deploy: Any) -> Resolver:
    return Resolver(
        github_deploy.locals,
        VARIABLES,
        {"aws_iam_policy.workload_boundary.arn": BOUNDARY_ARN},
    )


@pytest.fixture(scope="module")
def documents(github_deploy: Any, resolver: Resolver) -> dict[str, list[Statement]]:
    """The permission documents (the trust document, one per role, is checked on its own)."""
    return {
        name: resolver.statements(body)
        for (kind, name), body in github_deploy.data.items()
        if kind == "aws_iam_policy_document" and name != "trust"
    }


def policy_names(github_deploy: Any, local_name: str, ecs: bool = True) -> set[str]:
    """The deploy policies a role holds (``concat([...], var.enable_ecs ? [...] : [])``)."""
    expression = github_deploy.locals[local_name]
    always, _, with_ecs = expression.partition("var.enable_ecs ?")
    names = set(re.findall(r'"(\w+)"', always))
    if ecs:
        names |= set(re.findall(r'"(\w+)"', with_ecs.split(":")[0]))
    return names


def policy_document(github_deploy: Any, policy: str) -> str:
    """The aws_iam_policy_document a deploy policy is made from."""
    expression = github_deploy.locals["deploy_policy_documents"][policy]
    document = re.fullmatch(
        r"\$\{(?:one\()?data\.aws_iam_policy_document\.(\w+)(?:\[\*\])?\.json\)?\}",
        expression,
    )
    assert document, expression
    return document[1]


@pytest.fixture(scope="module")
def granted(
    github_deploy: Any, documents: dict[str, list[Statement]]
) -> dict[str, list[Statement]]:
    """Every statement each deploy role holds (ECS mode on), through its managed policies."""
    roles: dict[str, list[Statement]] = {}
    for role in DEPLOY_ROLES:
        statements: list[Statement] = []
        for policy in policy_names(github_deploy, f"{role}_policies"):
            statements += documents[policy_document(github_deploy, policy)]
        roles[role] = statements
    return roles


# --- Trust --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "environment"), [("plan", f"{ENVIRONMENT}-plan"), ("apply", ENVIRONMENT)]
)
def test_each_role_trusts_only_the_deploy_workflow_in_its_environment(
    github_deploy: Any, role: str, environment: str
) -> None:
    body = github_deploy.resource("aws_iam_role", role)
    assert body["assume_role_policy"] == f'${{data.aws_iam_policy_document.trust["{role}"].json}}'
    trust = github_deploy.data[("aws_iam_policy_document", "trust")]
    assert trust["for_each"] == "${local.job_environments}"
    [raw] = trust["statement"]
    assert raw["principals"] == [
        {"type": "Federated", "identifiers": ["${local.oidc_provider_arn}"]}
    ]
    # The document's instance for this role: each.value is its entry of job_environments.
    instance = Resolver(
        github_deploy.locals,
        VARIABLES,
        {"each.value": github_deploy.locals["job_environments"][role]},
    )
    [statement] = instance.statements({"statement": [raw]})
    assert statement.effect == "Allow"
    assert statement.actions == ("sts:AssumeRoleWithWebIdentity",)
    assert statement.condition(f"{TOKEN}:aud") == ("StringEquals", ("sts.amazonaws.com",))
    # The repository and the environment exactly: no wildcard can widen them.
    assert statement.condition(f"{TOKEN}:sub") == (
        "StringEquals",
        (f"repo:{OWNER}/{REPOSITORY}:environment:{environment}",),
    )
    assert {variable for _, variable, _ in statement.conditions} == {
        f"{TOKEN}:aud",
        f"{TOKEN}:sub",
    }


# The condition keys IAM offers for a web identity provider: the audience and the subject (and
# amr, for Cognito identity pools). GitHub's other claims (job_workflow_ref, ref, repository,
# ...) are not condition keys: a condition on one never matches, and nobody can assume the role.
OIDC_CONDITION_KEYS = {f"{TOKEN}:aud", f"{TOKEN}:sub"}


def test_trust_conditions_use_only_keys_iam_offers(github_deploy: Any) -> None:
    trust = github_deploy.data[("aws_iam_policy_document", "trust")]
    conditions = [c for s in trust["statement"] for c in s.get("condition", [])]
    assert conditions
    for condition in conditions:
        assert condition["variable"] in OIDC_CONDITION_KEYS, condition["variable"]
        # An exact subject: a wildcard in sub could admit other environments or refs.
        assert condition["test"] == "StringEquals", condition


def test_the_oidc_provider_is_githubs_for_sts_and_optional(github_deploy: Any) -> None:
    provider = github_deploy.resource("aws_iam_openid_connect_provider", "github")
    assert provider["url"] == "https://token.actions.githubusercontent.com"
    assert provider["client_id_list"] == ["sts.amazonaws.com"]
    assert provider["count"] == "${var.create_oidc_provider ? 1 : 0}"
    existing = github_deploy.data[("aws_iam_openid_connect_provider", "github")]
    assert existing["url"] == provider["url"]
    assert existing["count"] == "${var.create_oidc_provider ? 0 : 1}"
    assert github_deploy.variables["create_oidc_provider"]["default"] is True


def test_the_apply_environment_is_not_a_plan_environment(github_deploy: Any) -> None:
    """Naming the apply environment "<x>-plan" would hand the apply role to <x>'s plan job."""
    [validation] = github_deploy.variables["github_environment"]["validation"]
    assert '!endswith(var.github_environment, "-plan")' in validation["condition"]


# --- What the roles may do ---------------------------------------------------------------


def test_every_action_exists_and_every_resource_fits_it(
    documents: dict[str, list[Statement]],
) -> None:
    """IAM accepts unknown actions and ARNs an action never uses, and then denies quietly."""
    assert len(documents) >= 9
    for name, statements in documents.items():
        for statement in statements:
            where = f"{name}/{statement.sid}"
            for action in statement.actions:
                assert "*" not in action, f"{where}: {action}"
                assert exists(action), f"{where}: no such action {action}"
                if statement.resources == ("*",):
                    assert not arn_formats(action), (
                        f"{where}: {action} has resource-level permissions"
                    )
                else:
                    assert "*" not in statement.resources, where
                    assert any(fits(action, r) for r in statement.resources), (
                        f"{where}: {action} acts on none of {statement.resources}"
                    )
                for _, variable, _ in statement.conditions:
                    assert variable in condition_keys(action), (
                        f"{where}: {action} does not support {variable}"
                    )
            for resource in statement.resources:
                assert any(fits(action, resource) for action in statement.actions), (
                    f"{where}: no action acts on {resource}"
                )


def test_no_role_can_reach_the_deploy_roles_or_their_policies(
    granted: dict[str, list[Statement]],
) -> None:
    ours = [
        *DEPLOY_ROLES.values(),
        BOUNDARY_ARN,
        f"{IAM}:policy/github-actions/{PREFIX}-deploy-write",
    ]
    for role, statements in granted.items():
        for statement in statements:
            for pattern in statement.resources:
                if pattern.startswith("arn:aws:iam:"):
                    for arn in ours:
                        assert not matches(pattern, arn), f"{role}/{statement.sid} reaches {arn}"


PROTECTED = {
    # Destroying what holds the users' data is left to an administrator.
    "s3:DeleteBucket",
    "dynamodb:DeleteTable",
    "cognito-idp:DeleteUserPool",
    "ecr:DeleteRepository",
    "ecr:BatchDeleteImage",
    # Users and their credentials.
    "cognito-idp:AdminCreateUser",
    "cognito-idp:AdminGetUser",
    "cognito-idp:ListUsers",
    "cognito-idp:AdminSetUserPassword",
    # Escaping the boundary, or granting AWS managed policies.
    "iam:DeleteRolePermissionsBoundary",
    "iam:AttachRolePolicy",
    "iam:CreatePolicyVersion",
    "iam:CreateUser",
    "iam:CreateAccessKey",
    # The jobs in the queues, dead letters included.
    "sqs:DeleteQueue",
    "sqs:PurgeQueue",
}
DATA_PLANE = re.compile(
    r"dynamodb:(.*Item|Query|Scan|PartiQL.*|ExportTable.*|ImportTable|RestoreTable.*)"
    r"|sqs:(.*Message.*|StartMessageMoveTask|CancelMessageMoveTask)"
)


def test_neither_role_reads_or_writes_images_or_destroys_their_stores(
    granted: dict[str, list[Statement]],
) -> None:
    for role, statements in granted.items():
        actions = {action for statement in statements for action in statement.actions}
        assert not actions & PROTECTED, f"{role}: {sorted(actions & PROTECTED)}"
        assert not [a for a in actions if DATA_PLANE.fullmatch(a)], role
        for statement in statements:
            for action in statement.actions:
                objects = [f for f in arn_formats(action) if f.endswith("/${ObjectName}")]
                if not objects or not action.startswith("s3:"):
                    continue
                # Object actions only on the state, never on the stack's buckets.
                for pattern in statement.resources:
                    assert pattern.startswith(f"arn:aws:s3:::{STATE_BUCKET}/"), (role, action)
                    assert not matches(pattern, f"arn:aws:s3:::{PREFIX}-images-x/originals/y")


def test_the_plan_role_changes_only_its_lock_and_the_repository(
    granted: dict[str, list[Statement]],
) -> None:
    lock, own_plans = f"{STATE_OBJECT}.tflock", f"{STATE_OBJECT}.plans/{OWN_SESSION}/*"
    repository = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{PREFIX}"
    for statement in granted["plan"]:
        for action in statement.actions:
            if access_level(action) in ("Read", "List"):
                continue
            assert action.startswith("ecr:") or action in ("s3:PutObject", "s3:DeleteObject"), (
                action
            )
            assert set(statement.resources) <= {lock, own_plans, repository}, (
                action,
                statement.resources,
            )


def test_state_access(granted: dict[str, list[Statement]]) -> None:
    def on_state(role: str) -> dict[str, set[str]]:
        grants: dict[str, set[str]] = {}
        for statement in granted[role]:
            for pattern in statement.resources:
                if STATE_BUCKET in pattern:
                    for action in statement.actions:
                        grants.setdefault(action, set()).add(pattern)
        return grants

    lock, plans = f"{STATE_OBJECT}.tflock", f"{STATE_OBJECT}.plans/*"
    both = {
        "s3:ListBucket": {f"arn:aws:s3:::{STATE_BUCKET}"},
        "s3:GetObject": {STATE_OBJECT, lock, plans},
        "s3:DeleteObject": {lock},
    }
    # The plan job saves its plan, under its own session's key only (the workflow names the
    # key after it); only the apply job writes the state.
    own_plans = f"{STATE_OBJECT}.plans/{OWN_SESSION}/*"
    assert on_state("plan") == {**both, "s3:PutObject": {lock, own_plans}}
    assert on_state("apply") == {**both, "s3:PutObject": {STATE_OBJECT, lock}}


def test_the_stack_patterns_never_match_the_state_bucket(
    github_deploy: Any, granted: dict[str, list[Statement]]
) -> None:
    [validation] = github_deploy.variables["state_bucket"]["validation"]
    assert 'startswith(var.state_bucket, "${var.name_prefix}-")' in validation["condition"]
    for statement in granted["apply"]:
        for pattern in statement.resources:
            if pattern != "*" and STATE_BUCKET not in pattern:
                assert not matches(pattern, STATE_OBJECT), statement.sid


# Actions that grant permissions through a role, and the one boundary they must keep.
ROLE_PERMISSION_ACTIONS = {
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:UpdateAssumeRolePolicy",
    "iam:PutRolePermissionsBoundary",
}


def test_roles_are_created_and_changed_only_within_the_boundary(
    granted: dict[str, list[Statement]],
) -> None:
    seen = set()
    for statement in granted["apply"]:
        for action in set(statement.actions) & ROLE_PERMISSION_ACTIONS:
            seen.add(action)
            assert statement.condition("iam:PermissionsBoundary") == (
                "StringEquals",
                (BOUNDARY_ARN,),
            )
        if "iam:PassRole" in statement.actions:
            test, services = statement.condition("iam:PassedToService") or ("", ())
            assert test == "StringEquals"
            assert set(services) <= {
                "lambda.amazonaws.com",
                "scheduler.amazonaws.com",
                "ecs-tasks.amazonaws.com",
            }
    assert seen == ROLE_PERMISSION_ACTIONS
    plan_iam = {a for s in granted["plan"] for a in s.actions if a.startswith("iam:")}
    assert {access_level(action) for action in plan_iam} <= {"Read", "List"}


def test_every_role_of_the_stack_carries_the_boundary(terraform: Any) -> None:
    roles = 0
    for module in terraform.all_modules():
        for name, body in module.of_type("aws_iam_role").items():
            roles += 1
            assert body["permissions_boundary"] == "${var.role_permissions_boundary}", name
            assert module.variables["role_permissions_boundary"]["default"] is None
    # The API function's, the worker function's, the scheduler's; the ECS agent's, the ECS
    # service's task role, the ECS worker's task role.
    assert roles == 6
    for name in ("lambda_api", "ecs_service"):
        call = terraform.root.modules[name]
        assert call["role_permissions_boundary"] == "${var.role_permissions_boundary}", name
    assert terraform.root.variables["role_permissions_boundary"]["default"] is None


def test_every_managed_policy_fits_iams_size_limit(
    github_deploy: Any, documents: dict[str, list[Statement]]
) -> None:
    """A managed policy holds at most 6,144 characters, whitespace aside (LimitExceeded)."""
    boundary = github_deploy.resource("aws_iam_policy", "workload_boundary")["policy"]
    assert boundary == "${data.aws_iam_policy_document.workload_boundary.json}"
    policies = github_deploy.locals["deploy_policy_documents"]
    made = [policy_document(github_deploy, policy) for policy in policies]
    assert len(made) == 9
    for name in [*made, "workload_boundary"]:
        rendered = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": s.sid,
                    "Effect": s.effect,
                    "Action": list(s.actions),
                    "Resource": list(s.resources),
                    "Condition": {t: {v: list(vs)} for t, v, vs in s.conditions},
                }
                for s in documents[name]
            ],
        }
        size = len(json.dumps(rendered, separators=(",", ":")))
        # Longer names than the samples' add characters: keep a margin.
        assert size < 5_500, f"{name}: {size} characters"


# --- The deploy policies: one resource, each policy its own document ----------------------

# What each managed policy grants, by its statements: a document swapped, dropped or given to
# the wrong role changes what a role can do.
POLICY_STATEMENTS = {
    "read": {
        "ReadBuckets",
        "ReadTables",
        "ReadRepository",
        "ReadUserPools",
        "ReadRoles",
        "ReadFunctions",
        "ReadLogGroups",
        "ListLogGroups",
        "ReadHttpApis",
        "ReadSchedules",
        "ReadQueues",
        "ReadEventSourceMappings",
        "ReadAlarms",
    },
    "image_push": {"RegistryLogin", "PushToTheStackRepository"},
    "state_read": {"FindTheState", "ReadTheState", "LockTheState", "ReadSavedPlans"},
    "plan_write": {"SaveThePlan"},
    "state_write": {"WriteTheState"},
    "write_jobs": {
        "ConfigureQueues",
        "FeedTheWorker",
        "ConfigureTheWorkersFeed",
        "TagEventSourceMappings",
        "ConfigureQueueAlarms",
    },
    "read_ecs": {"ReadEcs", "DescribeNetworkAndScaling", "ReadScalingTags"},
}
PLAN_POLICIES = {"read", "image_push", "state_read", "plan_write"}
APPLY_POLICIES = {"read", "state_read", "state_write", "write", "write_jobs"}
ECS_POLICIES = {"plan": {"read_ecs"}, "apply": {"read_ecs", "write_ecs"}}


def test_one_resource_makes_every_deploy_policy(github_deploy: Any) -> None:
    assert set(github_deploy.of_type("aws_iam_policy")) == {"deploy", "workload_boundary"}
    deploy = github_deploy.resource("aws_iam_policy", "deploy")
    assert deploy["for_each"] == "${toset(local.deploy_policy_names)}"
    assert deploy["policy"] == "${local.deploy_policy_documents[each.key]}"
    assert deploy["description"] == "${local.deploy_policy_descriptions[each.key]}"
    assert deploy["path"] == "${local.iam_path}"
    # The names the policies have always had: "<prefix>-deploy-image-push", ...
    assert deploy["name"] == '${var.name_prefix}-deploy-${replace(each.key, "_", "-")}'
    descriptions = github_deploy.locals["deploy_policy_descriptions"]
    documents = github_deploy.locals["deploy_policy_documents"]
    every_policy = PLAN_POLICIES | APPLY_POLICIES | ECS_POLICIES["apply"]
    assert set(descriptions) == set(documents) == every_policy
    for policy in documents:
        # Each policy is the document of its own name, and nothing else.
        assert policy_document(github_deploy, policy) == policy
    # The ECS documents exist with ECS mode only, and so do their policies.
    assert github_deploy.locals["ecs_policy_names"] == ["read_ecs", "write_ecs"]
    names = github_deploy.locals["deploy_policy_names"]
    assert "var.enable_ecs || !contains(local.ecs_policy_names, name)" in names
    for name in ("read_ecs", "write_ecs"):
        body = github_deploy.data[("aws_iam_policy_document", name)]
        assert body["count"] == "${var.enable_ecs ? 1 : 0}"


@pytest.mark.parametrize("ecs", [False, True], ids=["lambda", "ecs"])
def test_each_role_holds_its_policies(github_deploy: Any, ecs: bool) -> None:
    for role, expected in (("plan", PLAN_POLICIES), ("apply", APPLY_POLICIES)):
        attachment = github_deploy.resource("aws_iam_role_policy_attachment", role)
        assert attachment["for_each"] == f"${{toset(local.{role}_policies)}}"
        assert attachment["role"] == f"${{aws_iam_role.{role}.name}}"
        assert attachment["policy_arn"] == "${aws_iam_policy.deploy[each.key].arn}"
        wanted = expected | (ECS_POLICIES[role] if ecs else set())
        assert policy_names(github_deploy, f"{role}_policies", ecs) == wanted


def test_each_deploy_policy_grants_its_own_part(
    github_deploy: Any, documents: dict[str, list[Statement]]
) -> None:
    for policy, sids in POLICY_STATEMENTS.items():
        found = {s.sid for s in documents[policy_document(github_deploy, policy)]}
        assert found == sids, policy
    # The write documents change the stack: every statement the apply role alone holds.
    for policy in ("write", "write_jobs", "write_ecs"):
        statements = documents[policy_document(github_deploy, policy)]
        assert statements, policy
        for statement in statements:
            assert statement.actions, f"{policy}/{statement.sid}"
            assert any(access_level(a) not in ("Read", "List") for a in statement.actions), (
                f"{policy}/{statement.sid} changes nothing"
            )


# --- Enough to deploy the stack, and no more for its roles --------------------------------

LOGS = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group"
API = f"arn:aws:apigateway:{REGION}::/apis"
ECS = f"arn:aws:ecs:{REGION}:{ACCOUNT}"
ELB = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}"
EC2 = f"arn:aws:ec2:{REGION}:{ACCOUNT}"
POOL = f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{REGION}_AbCdEf123"
BUCKET = f"arn:aws:s3:::{PREFIX}-images-20260101000000000000000001"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{PREFIX}-images"
FUNCTIONS = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function"
QUEUES = f"arn:aws:sqs:{REGION}:{ACCOUNT}"
JOBS_QUEUE = f"{QUEUES}:{PREFIX}-jobs"
DEAD_LETTERS = f"{QUEUES}:{PREFIX}-jobs-dead-letters"
ALARMS = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm"
WORKER_FUNCTION = f"{FUNCTIONS}:{PREFIX}-api-worker"
EVENT_SOURCE_MAPPING = (
    f"arn:aws:lambda:{REGION}:{ACCOUNT}:event-source-mapping:0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
)
# Each resource type of the stack, the call that creates it, and what it is called when the
# stack's modules name it from name_prefix (with ids AWS generates made up).
CREATED_BY = {
    "aws_s3_bucket": ("s3:CreateBucket", BUCKET),
    "aws_s3_bucket_public_access_block": ("s3:PutBucketPublicAccessBlock", BUCKET),
    "aws_s3_bucket_ownership_controls": ("s3:PutBucketOwnershipControls", BUCKET),
    "aws_s3_bucket_server_side_encryption_configuration": ("s3:PutEncryptionConfiguration", BUCKET),
    "aws_s3_bucket_versioning": ("s3:PutBucketVersioning", BUCKET),
    "aws_s3_bucket_lifecycle_configuration": ("s3:PutLifecycleConfiguration", BUCKET),
    "aws_s3_bucket_policy": ("s3:PutBucketPolicy", BUCKET),
    "aws_s3_bucket_cors_configuration": ("s3:PutBucketCORS", BUCKET),
    "aws_dynamodb_table": (
        "dynamodb:CreateTable",
        f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{PREFIX}-images",
    ),
    "aws_ecr_repository": (
        "ecr:CreateRepository",
        f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{PREFIX}",
    ),
    "aws_ecr_lifecycle_policy": (
        "ecr:PutLifecyclePolicy",
        f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{PREFIX}",
    ),
    "aws_cognito_user_pool": ("cognito-idp:CreateUserPool", "*"),  # the id is generated
    "aws_cognito_user_pool_client": ("cognito-idp:CreateUserPoolClient", POOL),
    "aws_cognito_user_group": ("cognito-idp:CreateGroup", POOL),
    "aws_iam_role": ("iam:CreateRole", f"{IAM}:role/{PREFIX}-api-sweeper-scheduler"),
    "aws_iam_role_policy": ("iam:PutRolePolicy", f"{IAM}:role/{PREFIX}-svc-execution"),
    "aws_cloudwatch_log_group": (
        "logs:CreateLogGroup",
        f"{LOGS}:/aws/apigateway/{PREFIX}-api/access",
    ),
    "aws_lambda_function": (
        "lambda:CreateFunction",
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{PREFIX}-api-sweeper",
    ),
    "aws_lambda_permission": (
        "lambda:AddPermission",
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{PREFIX}-api",
    ),
    "aws_apigatewayv2_api": ("apigateway:POST", API),
    "aws_apigatewayv2_integration": ("apigateway:POST", f"{API}/a1b2c3/integrations"),
    "aws_apigatewayv2_authorizer": ("apigateway:POST", f"{API}/a1b2c3/authorizers"),
    "aws_apigatewayv2_route": ("apigateway:POST", f"{API}/a1b2c3/routes"),
    "aws_apigatewayv2_stage": ("apigateway:POST", f"{API}/a1b2c3/stages"),
    "aws_scheduler_schedule": (
        "scheduler:CreateSchedule",
        f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/{PREFIX}-api-sweeper",
    ),
    "aws_ecs_cluster": ("ecs:CreateCluster", f"{ECS}:cluster/{PREFIX}-svc"),
    "aws_ecs_service": ("ecs:CreateService", f"{ECS}:service/{PREFIX}-svc/{PREFIX}-svc"),
    "aws_ecs_task_definition": (
        "ecs:RegisterTaskDefinition",
        f"{ECS}:task-definition/{PREFIX}-svc:7",
    ),
    "aws_lb": (
        "elasticloadbalancing:CreateLoadBalancer",
        f"{ELB}:loadbalancer/app/{PREFIX}-svc/50dc6c495c0c9188",
    ),
    "aws_lb_listener": (
        "elasticloadbalancing:CreateListener",
        f"{ELB}:loadbalancer/app/{PREFIX}-svc/50dc6c495c0c9188",
    ),
    "aws_lb_target_group": (
        "elasticloadbalancing:CreateTargetGroup",
        f"{ELB}:targetgroup/{PREFIX[:6]}2026010100000001/73e2d6bc24d8a067",
    ),
    "aws_security_group": ("ec2:CreateSecurityGroup", f"{EC2}:vpc/{VPC}"),
    "aws_vpc_security_group_ingress_rule": (
        "ec2:AuthorizeSecurityGroupIngress",
        f"{EC2}:security-group/sg-0a1",
    ),
    "aws_vpc_security_group_egress_rule": (
        "ec2:AuthorizeSecurityGroupEgress",
        f"{EC2}:security-group/sg-0a1",
    ),
    "aws_appautoscaling_target": (
        "application-autoscaling:RegisterScalableTarget",
        f"arn:aws:application-autoscaling:{REGION}:{ACCOUNT}:scalable-target/0ec1",
    ),
    "aws_appautoscaling_policy": (
        "application-autoscaling:PutScalingPolicy",
        f"arn:aws:application-autoscaling:{REGION}:{ACCOUNT}:scalable-target/0ec1",
    ),
    "aws_sqs_queue": ("sqs:CreateQueue", JOBS_QUEUE),
    "aws_sqs_queue_redrive_allow_policy": ("sqs:SetQueueAttributes", DEAD_LETTERS),
    # No resource-level permission: the function it feeds is the condition (checked below).
    "aws_lambda_event_source_mapping": ("lambda:CreateEventSourceMapping", "*"),
    "aws_cloudwatch_metric_alarm": (
        "cloudwatch:PutMetricAlarm",
        f"{ALARMS}:{PREFIX}-jobs-dead-letters-visible",
    ),
}
NOT_AWS = {"random_password"}


def test_the_apply_role_can_create_every_resource_the_stack_declares(
    terraform: Any, granted: dict[str, list[Statement]]
) -> None:
    declared = {kind for module in terraform.all_modules() for kind, _ in module.resources}
    # A new resource type in terraform/ needs its permissions here (and a row above).
    assert declared - NOT_AWS == set(CREATED_BY)
    for kind, (action, arn) in CREATED_BY.items():
        assert fits(action, arn), f"{kind}: {action} does not act on {arn}"
        assert list(allows(granted["apply"], action, arn)), f"{kind}: {action} on {arn}"
        assert not list(allows(granted["plan"], action, arn)) or action.startswith("apigateway:GET")


# The stack's own references, as AWS names what they point to.
STACK_REFERENCES = {
    "${aws_s3_bucket.images.arn}": BUCKET,
    "${aws_dynamodb_table.images.arn}": TABLE,
    "${aws_cloudwatch_log_group.function.arn}": f"{LOGS}:/aws/lambda/{PREFIX}-api",
    "${aws_cloudwatch_log_group.service.arn}": f"{LOGS}:/ecs/{PREFIX}-svc",
    "${local.log_group_arn_prefix}": LOGS,
    "${local.sweeper_name}": f"{PREFIX}-api-sweeper",
    "${aws_lambda_function.sweeper[0].arn}": f"{FUNCTIONS}:{PREFIX}-api-sweeper",
    "${var.ecr_repository_arn}": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{PREFIX}",
    "${aws_sqs_queue.jobs.arn}": JOBS_QUEUE,
}
# References that name another resource in each module (both have a worker's log group).
MODULE_REFERENCES = {
    "lambda_api": {
        "${aws_cloudwatch_log_group.worker.arn}": f"{LOGS}:/aws/lambda/{PREFIX}-api-worker",
    },
    "ecs_service": {
        "${aws_cloudwatch_log_group.worker.arn}": f"{LOGS}:/ecs/{PREFIX}-svc-worker",
    },
}
ROLE_POLICIES = (
    "storage/service_data_access",
    "storage/worker_data_access",
    "lambda_api/runtime",
    "lambda_api/worker_runtime",
    "lambda_api/scheduler",
    "ecs_service/execution",
    "jobs/send",
    "jobs/consume",
)


def test_the_boundary_allows_everything_the_stack_roles_are_granted(
    policy_documents: dict[str, dict[str, Any]], documents: dict[str, list[Statement]]
) -> None:
    """Or the service would be denied at run time by the boundary the pipeline puts on it."""
    boundary = documents["workload_boundary"]
    checked = 0
    for name in ROLE_POLICIES:
        references = {**STACK_REFERENCES, **MODULE_REFERENCES.get(name.split("/")[0], {})}
        for statement in policy_documents[name]["statement"]:
            for resource in statement["resources"]:
                for reference, arn in references.items():
                    resource = resource.replace(reference, arn)
                assert "${" not in resource, f"{name}: add {resource} to STACK_REFERENCES"
                concrete = resource.replace("*", "x1")
                for action in statement["actions"]:
                    checked += 1
                    assert list(allows(boundary, action, concrete)), (
                        f"{name}: {action} on {concrete}"
                    )
    assert checked >= 50


def test_the_boundary_grants_no_iam_and_nothing_outside_the_stack(
    documents: dict[str, list[Statement]],
) -> None:
    for statement in documents["workload_boundary"]:
        for action in statement.actions:
            assert action.split(":")[0] not in ("iam", "sts", "organizations"), action
        for resource in statement.resources:
            assert resource == "*" or re.search(rf"[:/]{PREFIX}(-|$)", resource), resource


# --- What the stack's resources need of the apply role beyond their own create call -------

TARGET_TRACKING_ALARM = (
    f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:"
    f"TargetTracking-service/{PREFIX}-svc/{PREFIX}-svc-AlarmHigh-0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
)


def test_the_apply_role_can_make_the_alarms_of_target_tracking(
    granted: dict[str, list[Statement]],
) -> None:
    """PutScalingPolicy of a target tracking policy makes its CloudWatch alarms with the
    caller's permissions, named TargetTracking-<resource id>-...; without them it fails."""
    for action in (
        "cloudwatch:PutMetricAlarm",
        "cloudwatch:DescribeAlarms",
        "cloudwatch:DeleteAlarms",
    ):
        assert fits(action, TARGET_TRACKING_ALARM), action
        assert list(allows(granted["apply"], action, TARGET_TRACKING_ALARM)), action
        other = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:billing"
        assert not list(allows(granted["apply"], action, other)), action
        assert not list(allows(granted["plan"], action, TARGET_TRACKING_ALARM)), action


def test_the_apply_role_can_change_the_http_apis_tags(granted: dict[str, list[Statement]]) -> None:
    """Tags of an HTTP API and its stage (default_tags, var.tags) change through API Gateway's
    tags resource, /tags/<URL-encoded ARN>, not through the API's own path."""
    api = f"arn:aws:apigateway:{REGION}::/apis/a1b2c3"
    for tagged in (api, f"{api}/stages/$default"):
        tags = f"arn:aws:apigateway:{REGION}::/tags/{quote(tagged, safe='')}"
        for action in ("apigateway:POST", "apigateway:DELETE"):
            assert fits(action, tags), action
            assert list(allows(granted["apply"], action, tags)), (action, tags)
            assert not list(allows(granted["plan"], action, tags)), (action, tags)
    elsewhere = quote(f"arn:aws:apigateway:{REGION}::/restapis/x", safe="")
    assert not list(
        allows(
            granted["apply"], "apigateway:POST", f"arn:aws:apigateway:{REGION}::/tags/{elsewhere}"
        )
    )


def stack_roles(terraform: Any) -> dict[str, str]:
    """The ARN of each role the stack makes -> the service that assumes it."""
    roles = {}
    for call in ("lambda_api", "ecs_service"):
        module = terraform.modules[call]
        name = terraform.root.modules[call]["name"].replace("${var.name_prefix}", PREFIX)
        assert module.locals.get("sweeper_name", "${var.name}-sweeper") == "${var.name}-sweeper"
        assert module.locals["worker_name"] == "${var.name}-worker"
        for body in module.of_type("aws_iam_role").values():
            role = body["name"].replace("${local.sweeper_name}", "${var.name}-sweeper")
            role = role.replace("${local.worker_name}", "${var.name}-worker")
            role = role.replace("${var.name}", name)
            assert "${" not in role, role
            document = re.fullmatch(
                r"\$\{data\.aws_iam_policy_document\.(\w+)\.json\}", body["assume_role_policy"]
            )
            assert document, body["assume_role_policy"]
            [statement] = module.data[("aws_iam_policy_document", document[1])]["statement"]
            [principal] = statement["principals"]
            [service] = principal["identifiers"]
            roles[f"{IAM}:role/{role}"] = service
    return roles


def test_pass_role_reaches_the_stack_roles_only_each_for_its_service(
    terraform: Any, granted: dict[str, list[Statement]]
) -> None:
    """PassRole has no boundary condition: a pattern such as role/<prefix>-* would hand any
    role of that name, made by anyone, to Lambda or ECS. The stack's roles, by name, each to
    the service that assumes it."""
    roles = stack_roles(terraform)
    assert len(roles) == 6
    passing = [s for s in granted["apply"] if "iam:PassRole" in s.actions]
    assert passing
    for statement in passing:
        test, services = statement.condition("iam:PassedToService") or ("", ())
        assert test == "StringEquals", statement.sid
        for pattern in statement.resources:
            assert "*" not in pattern, (statement.sid, pattern)
            assert pattern in roles, (statement.sid, pattern)
            assert set(services) == {roles[pattern]}, (statement.sid, pattern, services)
    for arn, service in roles.items():
        assert any(
            arn in s.resources
            and s.condition("iam:PassedToService") == ("StringEquals", (service,))
            for s in passing
        ), arn
    assert not list(allows(granted["plan"], "iam:PassRole", next(iter(roles))))


# --- The worker's queue, its feed and its alarms --------------------------------------------


def test_the_apply_role_feeds_the_worker_function_only(
    granted: dict[str, list[Statement]],
) -> None:
    """Event source mappings have generated ids: what limits the apply role to the stack's is
    the function they feed (lambda:FunctionArn), on creation and on every later change."""
    feeding = [
        s
        for s in granted["apply"]
        if {
            "lambda:CreateEventSourceMapping",
            "lambda:UpdateEventSourceMapping",
            "lambda:DeleteEventSourceMapping",
        }
        & set(s.actions)
    ]
    assert {a for s in feeding for a in s.actions} == {
        "lambda:CreateEventSourceMapping",
        "lambda:UpdateEventSourceMapping",
        "lambda:DeleteEventSourceMapping",
    }
    for statement in feeding:
        assert statement.condition("lambda:FunctionArn") == ("StringEquals", (WORKER_FUNCTION,))
    for action in ("lambda:UpdateEventSourceMapping", "lambda:DeleteEventSourceMapping"):
        assert list(allows(granted["apply"], action, EVENT_SOURCE_MAPPING)), action
        assert not list(allows(granted["plan"], action, EVENT_SOURCE_MAPPING)), action
    # Its tags change with the default tags; reading it is the plan's refresh.
    for action in ("lambda:TagResource", "lambda:UntagResource"):
        assert list(allows(granted["apply"], action, EVENT_SOURCE_MAPPING)), action
    for action in ("lambda:GetEventSourceMapping", "lambda:ListTags"):
        assert list(allows(granted["plan"], action, EVENT_SOURCE_MAPPING)), action


def test_the_apply_role_configures_the_queues_and_never_empties_them(
    granted: dict[str, list[Statement]],
) -> None:
    for queue in (JOBS_QUEUE, DEAD_LETTERS):
        for action in ("sqs:CreateQueue", "sqs:SetQueueAttributes", "sqs:TagQueue"):
            assert list(allows(granted["apply"], action, queue)), (action, queue)
        for action in ("sqs:GetQueueAttributes", "sqs:ListQueueTags"):
            assert list(allows(granted["plan"], action, queue)), (action, queue)
        for action in ("sqs:DeleteQueue", "sqs:PurgeQueue", "sqs:ReceiveMessage"):
            for role in DEPLOY_ROLES:
                assert not list(allows(granted[role], action, queue)), (role, action, queue)
    # Someone else's queue in the account is out of reach.
    other = f"{QUEUES}:billing-events"
    for statement in granted["apply"]:
        for pattern in statement.resources:
            if pattern != "*":
                assert not matches(pattern, other), statement.sid


def test_the_apply_role_manages_the_stacks_alarms_only(
    granted: dict[str, list[Statement]],
) -> None:
    ours = f"{ALARMS}:{PREFIX}-jobs-oldest-message-age"
    for action in (
        "cloudwatch:PutMetricAlarm",
        "cloudwatch:DeleteAlarms",
        "cloudwatch:TagResource",
    ):
        assert list(allows(granted["apply"], action, ours)), action
        assert not list(allows(granted["plan"], action, ours)), action
        assert not list(allows(granted["apply"], action, f"{ALARMS}:billing")), action
    for action in ("cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"):
        assert list(allows(granted["plan"], action, ours)), action


def test_the_boundary_lets_the_stack_roles_use_the_jobs_queue_only(
    policy_documents: dict[str, dict[str, Any]], documents: dict[str, list[Statement]]
) -> None:
    boundary = documents["workload_boundary"]
    for action in ("sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage"):
        assert list(allows(boundary, action, JOBS_QUEUE)), action
        assert not list(allows(boundary, action, f"{QUEUES}:billing-events")), action
    actions = {a for s in boundary for a in s.actions if a.startswith("sqs:")}
    # What the API's and the worker's queue policies grant, and no more.
    assert actions == {
        action
        for name in ("jobs/send", "jobs/consume")
        for statement in policy_documents[name]["statement"]
        for action in statement["actions"]
    }
    assert not actions & {
        "sqs:CreateQueue",
        "sqs:DeleteQueue",
        "sqs:PurgeQueue",
        "sqs:SetQueueAttributes",
        "sqs:AddPermission",
    }
