"""IAM policies are least privilege, checked structurally from aws_iam_policy_document blocks."""

from __future__ import annotations

import ast
import fnmatch
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import botocore
import botocore.session
import pytest

from service.domain.model import ORIGINALS_PREFIX, RENDITIONS_PREFIX, object_key, rendition_key
from service.domain.sessions import INCOMING_PREFIX, UploadSession
from tests.terraform.iam_reference import Resolver, Statement, allows

# Actions that do not support resource-level permissions: "*" is the only valid resource.
RESOURCELESS_ACTIONS = {
    "ecr:GetAuthorizationToken",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
}
TRUSTED_SERVICES = {
    "lambda.amazonaws.com",
    "ecs-tasks.amazonaws.com",
    "scheduler.amazonaws.com",
}
POLICY_ATTRIBUTES = {
    "aws_iam_role_policy": "policy",
    "aws_iam_policy": "policy",
    "aws_s3_bucket_policy": "policy",
    "aws_iam_role": "assume_role_policy",
}


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = document.get("statement", [])
    return found


def is_allow(statement: dict[str, Any]) -> bool:
    return bool(statement.get("effect", "Allow") == "Allow")


def test_policies_are_policy_documents(terraform: Any) -> None:
    """Every policy comes from a policy document data source, never inline JSON."""
    seen = 0
    for module in terraform.all_modules():
        for (kind, name), body in module.resources.items():
            if kind not in POLICY_ATTRIBUTES:
                continue
            seen += 1
            policy = body[POLICY_ATTRIBUTES[kind]]
            assert re.fullmatch(
                r"\$\{(data\.aws_iam_policy_document\.\w+(\[0\])?\.json"
                r"|var\.(service|worker|queue_send|queue_consume)_policy_json)\}",
                policy,
            ), f"{module.path.name}: {kind}.{name} policy is {policy}"
        # Managed policies (AdministratorAccess, *FullAccess, ...) are not least privilege.
        assert not module.of_type("aws_iam_role_policy_attachment")
        assert not module.of_type("aws_iam_policy_attachment")
    assert seen >= 8


def test_service_policy_is_passed_from_storage(terraform: Any) -> None:
    storage = terraform.modules["storage"]
    assert (
        storage.outputs["service_policy_json"]["value"]
        == "${data.aws_iam_policy_document.service_data_access.json}"
    )
    assert (
        storage.outputs["worker_policy_json"]["value"]
        == "${data.aws_iam_policy_document.worker_data_access.json}"
    )


def test_found_the_policy_documents(policy_documents: dict[str, dict[str, Any]]) -> None:
    assert {
        "storage/service_data_access",
        "storage/worker_data_access",
        "storage/bucket",
        "lambda_api/runtime",
        "lambda_api/worker_runtime",
        "ecs_service/execution",
        "jobs/send",
        "jobs/consume",
    } <= set(policy_documents)


def test_no_wildcard_actions(policy_documents: dict[str, dict[str, Any]]) -> None:
    for name, document in policy_documents.items():
        for statement in filter(is_allow, statements(document)):
            assert "not_actions" not in statement, name
            assert "not_resources" not in statement, name
            for action in statement["actions"]:
                assert action != "*", name
                assert not action.endswith(":*"), f"{name}: {action}"


def test_no_wildcard_resources_on_data_plane_actions(
    policy_documents: dict[str, dict[str, Any]],
) -> None:
    for name, document in policy_documents.items():
        for statement in filter(is_allow, statements(document)):
            if "principals" in statement:
                continue  # trust policies: checked below
            resources = statement["resources"]
            assert isinstance(resources, list), f"{name}: list resources literally"
            assert resources, name
            if "*" in resources:
                assert resources == ["*"], name
                assert set(statement["actions"]) <= RESOURCELESS_ACTIONS, (
                    f"{name}: {statement['actions']} on *"
                )
            for resource in resources:
                assert not re.fullmatch(r"arn:aws:[a-z0-9-]+:\*?:\*?:\*", resource), name


def test_trust_policies_only_let_aws_services_assume_roles(
    policy_documents: dict[str, dict[str, Any]],
) -> None:
    trust = {
        name: document
        for name, document in policy_documents.items()
        if any("principals" in s and "sts:AssumeRole" in s["actions"] for s in statements(document))
    }
    assert len(trust) == 3
    for name, document in trust.items():
        for statement in statements(document):
            assert statement["actions"] == ["sts:AssumeRole"], name
            for principal in statement["principals"]:
                assert principal["type"] == "Service", name
                assert set(principal["identifiers"]) <= TRUSTED_SERVICES, name


def test_resource_policies_with_any_principal_only_deny(
    policy_documents: dict[str, dict[str, Any]],
) -> None:
    for name, document in policy_documents.items():
        for statement in statements(document):
            principals = statement.get("principals", [])
            if any("*" in p["identifiers"] for p in principals):
                assert statement["effect"] == "Deny", name


def allowed(document: dict[str, Any]) -> dict[str, set[str]]:
    """action -> resources it is allowed on."""
    grants: dict[str, set[str]] = {}
    for statement in filter(is_allow, statements(document)):
        for action in statement["actions"]:
            grants.setdefault(action, set()).update(statement["resources"])
    return grants


def test_service_policy_is_exactly_what_the_service_uses(
    policy_documents: dict[str, dict[str, Any]],
) -> None:
    bucket = "${aws_s3_bucket.images.arn}"
    table = "${aws_dynamodb_table.images.arn}"
    objects = {
        f"{bucket}/{ORIGINALS_PREFIX}*",
        f"{bucket}/{RENDITIONS_PREFIX}*",
        f"{bucket}/{INCOMING_PREFIX}*",
    }
    incoming = {f"{bucket}/{INCOMING_PREFIX}*"}
    table_and_indexes = {table, f"{table}/index/*"}
    dynamodb = (
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "BatchGetItem",
        "DescribeTable",
    )
    expected = {
        "s3:PutObject": objects,
        "s3:GetObject": objects,
        "s3:DeleteObject": objects,
        "s3:ListBucket": {bucket},
        # Multipart upload sessions, on incoming/ only.
        "s3:AbortMultipartUpload": incoming,
        "s3:ListMultipartUploadParts": incoming,
        **{f"dynamodb:{action}": table_and_indexes for action in dynamodb},
    }
    assert allowed(policy_documents["storage/service_data_access"]) == expected


@pytest.mark.parametrize(
    ("document", "expected_actions"),
    [
        *(
            (
                document,
                {
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "xray:PutTraceSegments",
                    "xray:PutTelemetryRecords",
                },
            )
            for document in ("lambda_api/runtime", "lambda_api/worker_runtime")
        ),
        (
            "ecs_service/execution",
            {
                "ecr:GetAuthorizationToken",
                "ecr:BatchCheckLayerAvailability",
                "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
            },
        ),
        ("lambda_api/scheduler", {"lambda:InvokeFunction"}),
    ],
)
def test_platform_policies(
    policy_documents: dict[str, dict[str, Any]], document: str, expected_actions: set[str]
) -> None:
    grants = allowed(policy_documents[document])
    assert set(grants) == expected_actions
    for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
        for resource in grants.get(action, ()):
            # Log streams of this module's own log groups only.
            assert resource.endswith(":*"), resource
            assert ".arn}:" in resource or "log_group_arn_prefix}:/aws/lambda/" in resource, (
                resource
            )


def test_roles_get_the_right_policies(terraform: Any) -> None:
    lambda_api = terraform.modules["lambda_api"]
    ecs = terraform.modules["ecs_service"]
    role_policies = {
        (module.path.name, body["role"], body["policy"])
        for module in (lambda_api, ecs)
        for body in module.of_type("aws_iam_role_policy").values()
    }
    assert role_policies == {
        ("lambda_api", "${aws_iam_role.function.id}", "${var.service_policy_json}"),
        ("lambda_api", "${aws_iam_role.function.id}", "${var.queue_send_policy_json}"),
        (
            "lambda_api",
            "${aws_iam_role.function.id}",
            "${data.aws_iam_policy_document.runtime.json}",
        ),
        (
            "lambda_api",
            "${aws_iam_role.scheduler[0].id}",
            "${data.aws_iam_policy_document.scheduler[0].json}",
        ),
        ("lambda_api", "${aws_iam_role.worker.id}", "${var.worker_policy_json}"),
        ("lambda_api", "${aws_iam_role.worker.id}", "${var.queue_consume_policy_json}"),
        (
            "lambda_api",
            "${aws_iam_role.worker.id}",
            "${data.aws_iam_policy_document.worker_runtime.json}",
        ),
        ("ecs_service", "${aws_iam_role.task.id}", "${var.service_policy_json}"),
        ("ecs_service", "${aws_iam_role.task.id}", "${var.queue_send_policy_json}"),
        (
            "ecs_service",
            "${aws_iam_role.execution.id}",
            "${data.aws_iam_policy_document.execution.json}",
        ),
        ("ecs_service", "${aws_iam_role.worker_task.id}", "${var.worker_policy_json}"),
        ("ecs_service", "${aws_iam_role.worker_task.id}", "${var.queue_consume_policy_json}"),
    }


# --- The service policy against the calls the adapters make ------------------------------

ADAPTERS = Path(__file__).resolve().parents[2] / "service" / "adapters"
# Client methods that name an operation in their first argument.
OPERATION_ARGUMENT = {"get_paginator", "generate_presigned_url"}
# Client methods that sign a request for someone else, by the operation it performs.
SIGNED_AS = {"generate_presigned_post": "put_object"}
# Client methods that are not AWS calls.
NOT_OPERATIONS = {"can_paginate", "close", "get_waiter", "exceptions", "meta"}
# Calls that no IAM policy governs: Cognito's sign-in of a public app client and the revocation
# of its refresh token are unsigned (the user's password, the token itself, is the credential),
# so the service's role needs no permission for them.
UNSIGNED_CALLS = {"initiate_auth", "revoke_token"}
# Calls authorized by another action than their own name (Service Authorization Reference).
AUTHORIZED_BY = {
    "s3:HeadBucket": {"s3:ListBucket"},
    "s3:ListObjectsV2": {"s3:ListBucket"},
    "s3:HeadObject": {"s3:GetObject"},
    # Multipart uploads are authorized as PutObject, ListParts by its own action name.
    "s3:CreateMultipartUpload": {"s3:PutObject"},
    "s3:UploadPart": {"s3:PutObject"},
    "s3:CompleteMultipartUpload": {"s3:PutObject"},
    "s3:ListParts": {"s3:ListMultipartUploadParts"},
    # CopyObject and UploadPartCopy: GetObject on the source, PutObject on the destination.
    "s3:CopyObject": {"s3:GetObject", "s3:PutObject"},
    "s3:UploadPartCopy": {"s3:GetObject", "s3:PutObject"},
    "s3:DeleteObjects": {"s3:DeleteObject"},
    "dynamodb:TransactGetItems": {"dynamodb:GetItem"},
}
# TransactWriteItems is authorized per item, by the action of each item type.
TRANSACT_WRITE_ITEMS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}


def operations_by_method() -> dict[str, str]:
    """boto3 client method -> ``service:Operation`` for the services the policies cover."""
    session = botocore.session.get_session()
    methods: dict[str, str] = {}
    for service in ("s3", "dynamodb", "sqs"):
        for operation in session.get_service_model(service).operation_names:
            method = botocore.xform_name(operation)
            assert method not in methods, f"{method} is ambiguous"
            methods[method] = f"{service}:{operation}"
    return methods


def is_client(node: ast.expr) -> bool:
    """``client``, ``self._client``, ``self._presign_client``..."""
    name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
    return name.lower().endswith("client")


def adapter_sources() -> list[Path]:
    sources = sorted(ADAPTERS.rglob("*.py"))
    assert sources, ADAPTERS
    return sources


def adapter_calls() -> set[str]:
    """Every AWS operation the adapters call, by ``service:Operation``."""
    methods = operations_by_method()
    calls: set[str] = set()
    transact_items: set[str] = set()
    for path in adapter_sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Dict):
                transact_items |= {
                    key.value
                    for key in node.keys
                    if isinstance(key, ast.Constant) and key.value in TRANSACT_WRITE_ITEMS
                }
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and is_client(node.func.value)
            ):
                continue
            method = SIGNED_AS.get(node.func.attr, node.func.attr)
            if method in NOT_OPERATIONS or method in UNSIGNED_CALLS:
                continue
            if method in OPERATION_ARGUMENT:
                argument = node.args[0]
                assert isinstance(argument, ast.Constant), f"{path.name}: {ast.unparse(node)}"
                method = str(argument.value)
            assert method in methods, f"{path.name}: {method} is not an S3, DynamoDB or SQS call"
            calls.add(methods[method])
    if "dynamodb:TransactWriteItems" in calls:
        calls.remove("dynamodb:TransactWriteItems")
        assert transact_items, "TransactWriteItems without Put/Update/Delete/ConditionCheck items"
        calls |= {TRANSACT_WRITE_ITEMS[item] for item in transact_items}
    return calls


def test_the_adapters_make_the_calls_the_scan_looks_for() -> None:
    calls = adapter_calls()
    # A few calls the service cannot work without: the scan must keep finding them.
    assert {"s3:PutObject", "s3:GetObject", "dynamodb:Query", "dynamodb:PutItem"} <= calls


def required_actions(service: str) -> set[str]:
    """The IAM actions the adapters' calls of one service need."""
    required: set[str] = set()
    for call in adapter_calls():
        if call.startswith(f"{service}:"):
            required |= AUTHORIZED_BY.get(call, {call})
    return required


def test_service_policy_grants_every_call_and_nothing_else(
    policy_documents: dict[str, dict[str, Any]],
) -> None:
    required = required_actions("s3") | required_actions("dynamodb")
    granted = set(allowed(policy_documents["storage/service_data_access"]))
    assert required - granted == set(), "called but not granted"
    assert granted - required == set(), "granted but never called"


def test_the_queue_policies_grant_every_queue_call_and_nothing_else(
    policy_documents: dict[str, dict[str, Any]],
) -> None:
    """The API's and the worker's together: the adapter that sends also receives."""
    required = required_actions("sqs")
    assert {"sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage"} <= required
    granted = set(allowed(policy_documents["jobs/send"])) | set(
        allowed(policy_documents["jobs/consume"])
    )
    assert required - granted == set(), "called but not granted"
    assert granted - required == set(), "granted but never called"


def test_the_worker_policy_is_within_what_the_service_calls(
    policy_documents: dict[str, dict[str, Any]],
) -> None:
    """The worker reads and clears incoming/, copies to originals/, reads originals and writes
    renditions: each of its grants is one the service's own policy holds (whose every action
    the adapters call), on fewer prefixes; it lists incoming/ only and deletes no original."""
    bucket = "${aws_s3_bucket.images.arn}"
    table = "${aws_dynamodb_table.images.arn}"
    incoming = f"{bucket}/{INCOMING_PREFIX}*"
    originals = f"{bucket}/{ORIGINALS_PREFIX}*"
    renditions = f"{bucket}/{RENDITIONS_PREFIX}*"
    worker = allowed(policy_documents["storage/worker_data_access"])
    service = allowed(policy_documents["storage/service_data_access"])
    for action, resources in worker.items():
        assert resources <= service.get(action, set()), (action, resources)
    assert {
        action: resources for action, resources in worker.items() if action.startswith("s3:")
    } == {
        "s3:GetObject": {incoming, originals},
        "s3:PutObject": {incoming, originals, renditions},
        "s3:DeleteObject": {incoming},
        "s3:AbortMultipartUpload": {incoming},
        "s3:ListMultipartUploadParts": {incoming},
        "s3:ListBucket": {bucket},
    }
    # The table: the API's calls, the same list, on the table and its indexes; never Scan.
    table_actions = {action for action in worker if action.startswith("dynamodb:")}
    assert table_actions == {action for action in service if action.startswith("dynamodb:")}
    assert "dynamodb:Scan" not in table_actions
    for action in table_actions:
        assert worker[action] == {table, f"{table}/index/*"}, action


# --- The worker's calls, one by one, against its policy made concrete ---------------------

BUCKET_ARN = "arn:aws:s3:::mpycloud-images-example"
TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/mpycloud-images"


def worker_statements(terraform: Any) -> list[Statement]:
    storage = terraform.modules["storage"]
    resolver = Resolver(
        storage.locals,
        {},
        {"aws_s3_bucket.images.arn": BUCKET_ARN, "aws_dynamodb_table.images.arn": TABLE_ARN},
    )
    return resolver.statements(storage.data[("aws_iam_policy_document", "worker_data_access")])


def satisfied(statement: Statement, context: dict[str, str]) -> bool:
    """The statement's conditions hold in the request's context (the tests use StringLike
    and StringEquals only; a key the request does not carry fails its condition)."""
    for test, variable, values in statement.conditions:
        assert test in ("StringLike", "StringEquals"), (statement.sid, test)
        if variable not in context:
            return False
        match = fnmatch.fnmatchcase if test == "StringLike" else str.__eq__
        if not any(match(context[variable], value) for value in values):
            return False
    return True


def granted_to(
    statements: list[Statement], action: str, arn: str, context: dict[str, str] | None = None
) -> bool:
    return any(satisfied(s, context or {}) for s in allows(statements, action, arn))


def worker_calls() -> list[tuple[str, str, str, dict[str, str]]]:
    """What the worker asks S3 (service/usecases/processing.py, through S3UploadStore and
    S3ImageStore), as (operation, IAM action, resource, request context): every action an
    operation is authorized by, on the resource it is authorized on."""
    image_id = "01JBX6Z8KQ3V9W7Y5T2R1P0N4M"
    session = UploadSession(
        upload_id="01JBX6Z8KQ3V9W7Y5T2R1P0N4N",
        user_id="alice",
        filename="photo.heic",
        content_type="image/heic",
        size=64 * 1024 * 1024,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        expires_at=datetime(2026, 1, 1, 1, tzinfo=UTC),
        multipart_id="upload-id",
    )

    def obj(key: str) -> str:
        return f"{BUCKET_ARN}/{key}"

    arrived, scrubbed = obj(session.object_key), obj(session.scrubbed_key)
    original = obj(object_key(image_id))
    rendition = obj(rendition_key(image_id, 256, "jpeg"))
    return [
        # Whether the multipart upload was completed by an earlier run: a missing key is a 404
        # only to a caller that may list the bucket with the key as s3:prefix.
        ("s3:HeadObject", "s3:GetObject", arrived, {}),
        ("s3:HeadObject", "s3:ListBucket", BUCKET_ARN, {"s3:prefix": session.object_key}),
        ("s3:CompleteMultipartUpload", "s3:PutObject", arrived, {}),
        # Spooled and hashed, If-Match its ETag (read_header and ranges alike).
        ("s3:GetObject", "s3:GetObject", arrived, {}),
        # Rewritten without its location next to it.
        ("s3:CreateMultipartUpload", "s3:PutObject", scrubbed, {}),
        ("s3:UploadPart", "s3:PutObject", scrubbed, {}),
        ("s3:UploadPartCopy", "s3:PutObject", scrubbed, {}),
        ("s3:UploadPartCopy", "s3:GetObject", arrived, {}),
        ("s3:CompleteMultipartUpload", "s3:PutObject", scrubbed, {}),
        ("s3:AbortMultipartUpload", "s3:AbortMultipartUpload", scrubbed, {}),
        ("s3:HeadObject", "s3:GetObject", scrubbed, {}),
        # Published: copied (from either), or put as its checked bytes.
        ("s3:CopyObject", "s3:PutObject", original, {}),
        ("s3:CopyObject", "s3:GetObject", arrived, {}),
        ("s3:CopyObject", "s3:GetObject", scrubbed, {}),
        ("s3:PutObject", "s3:PutObject", original, {}),
        # A DERIVE job reads the original; the smallest rendition is put If-None-Match.
        ("s3:GetObject", "s3:GetObject", original, {}),
        ("s3:PutObject", "s3:PutObject", rendition, {}),
        # READY or FAILED: what arrived goes, a multipart upload left open is aborted.
        ("s3:AbortMultipartUpload", "s3:AbortMultipartUpload", arrived, {}),
        ("s3:DeleteObject", "s3:DeleteObject", arrived, {}),
        ("s3:DeleteObject", "s3:DeleteObject", scrubbed, {}),
    ]


# A read of a key that does not exist: S3 answers 404 to a caller that may list the key (with
# it as s3:prefix), 403 to any other.
NOT_FOUND_AUTHORIZED_BY = {"s3:HeadObject": "s3:ListBucket", "s3:GetObject": "s3:ListBucket"}


def test_the_worker_calls_are_those_the_adapters_make() -> None:
    calls = adapter_calls()
    for operation, action, _, _ in worker_calls():
        assert operation in calls, operation
        assert action in AUTHORIZED_BY.get(operation, {operation}) or (
            NOT_FOUND_AUTHORIZED_BY.get(operation) == action
        ), (operation, action)


@pytest.mark.parametrize(
    ("operation", "action", "resource", "context"),
    worker_calls(),
    ids=[
        f"{operation}:{action}:{resource.removeprefix(BUCKET_ARN).lstrip('/') or 'bucket'}"
        for operation, action, resource, _ in worker_calls()
    ],
)
def test_the_worker_may_make_each_of_its_calls(
    terraform: Any, operation: str, action: str, resource: str, context: dict[str, str]
) -> None:
    assert granted_to(worker_statements(terraform), action, resource, context), (
        f"{operation} needs {action} on {resource} {context}"
    )


def test_the_worker_lists_incoming_uploads_and_nothing_else(terraform: Any) -> None:
    """ListBucket is limited by s3:prefix to incoming/: a HeadObject of a missing upload is a
    404; the bucket's other prefixes, and a listing naming no prefix, stay closed."""
    statements = worker_statements(terraform)
    [listing] = [s for s in statements if "s3:ListBucket" in s.actions]
    assert listing.actions == ("s3:ListBucket",)
    assert listing.resources == (BUCKET_ARN,)
    assert listing.condition("s3:prefix") == ("StringLike", ("incoming/", "incoming/*"))
    assert INCOMING_PREFIX == "incoming/"
    for prefix in (INCOMING_PREFIX, f"{INCOMING_PREFIX}01JBX6Z8KQ3V9W7Y5T2R1P0N4N"):
        assert granted_to(statements, "s3:ListBucket", BUCKET_ARN, {"s3:prefix": prefix})
    for prefix in (ORIGINALS_PREFIX, f"{RENDITIONS_PREFIX}x/", "", "incoming"):
        assert not granted_to(statements, "s3:ListBucket", BUCKET_ARN, {"s3:prefix": prefix})
    assert not granted_to(statements, "s3:ListBucket", BUCKET_ARN)  # HeadBucket, no prefix
