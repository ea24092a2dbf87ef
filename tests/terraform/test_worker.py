"""The upload-processing worker and its queue: the jobs queue and its dead letters, the worker
in both modes (a Lambda function fed by an event source mapping, an ECS service without a load
balancer), what each role may do with the queue, the alarms, and the worker's decode budget.

The numbers are worked out from the HCL's own expressions (a small evaluator below), for every
value the variables' validations let through, not read off a default.
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest

from service.settings import MAX_FILE_SIZE_LIMIT

REPO_ROOT = Path(__file__).resolve().parents[2]
CLI = REPO_ROOT / "service" / "entrypoints" / "cli.py"
MIB = 1024 * 1024
GIB = 1024 * MIB
# AWS's advice for a queue a Lambda function reads: a visibility timeout of at least six times
# the function's timeout.
VISIBILITY_FACTOR = 6
SQS_MAX_VISIBILITY_SECONDS = 43_200
SQS_MAX_RECEIVE_COUNT = 1_000
FARGATE_MAX_STOP_TIMEOUT = 120
LAMBDA_MAX_TIMEOUT = 900
CONSUME_ACTIONS = {
    "sqs:GetQueueUrl",
    "sqs:GetQueueAttributes",
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
}
SEND_ACTIONS = {"sqs:GetQueueUrl", "sqs:SendMessage"}
JOBS_QUEUE = "${aws_sqs_queue.jobs.arn}"


def ref(expression: Any) -> str:
    """``${var.x}`` -> ``var.x``."""
    text = str(expression)
    match = re.fullmatch(r"\$\{(.*)\}", text, flags=re.DOTALL)
    return match.group(1).strip() if match else text


# --- A small evaluator of HCL arithmetic --------------------------------------------------

FUNCTIONS: dict[str, Callable[..., Any]] = {"min": min, "max": max, "floor": math.floor}


def evaluate(expression: Any, module: Any, variables: Mapping[str, Any]) -> Any:
    """Integer arithmetic, min, max and floor over literals, ``var.x`` (from ``variables``)
    and ``local.y`` (the module's locals, evaluated in turn)."""
    if not isinstance(expression, str):
        return expression
    text = re.sub(r"\b(var|local)\.(\w+)", r"\1__\2", ref(expression))

    def value(node: ast.AST) -> Any:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return node.value
        if isinstance(node, ast.BinOp):
            left, right = value(node.left), value(node.right)
            operations: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
                ast.Add: lambda a, b: a + b,
                ast.Sub: lambda a, b: a - b,
                ast.Mult: lambda a, b: a * b,
                ast.Div: lambda a, b: a / b,  # HCL's / is not an integer division
            }
            if type(node.op) in operations:
                return operations[type(node.op)](left, right)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in FUNCTIONS
        ):
            return FUNCTIONS[node.func.id](*(value(argument) for argument in node.args))
        if isinstance(node, ast.Name):
            kind, _, name = node.id.partition("__")
            if kind == "var":
                return variables[name]
            if kind == "local":
                return evaluate(module.locals[name], module, variables)
        raise AssertionError(f"cannot evaluate {ast.unparse(node)!r} in {expression!r}")

    return value(ast.parse(text, mode="eval").body)


def test_the_evaluator_reads_what_the_tests_rely_on() -> None:
    class Locals:
        locals: ClassVar = {"twice": "${2 * var.x}", "cap": "${min(120, local.twice + 10)}"}

    assert evaluate("${local.cap}", Locals, {"x": 30}) == 70
    assert evaluate("${local.cap}", Locals, {"x": 300}) == 120
    assert evaluate("${floor(var.x * 1048576 / 4)}", Locals, {"x": 3}) == 786_432
    with pytest.raises(AssertionError):
        evaluate("${var.x % 2}", Locals, {"x": 3})


def bounds(variable: dict[str, Any], name: str) -> tuple[int, int]:
    """The inclusive range a ``var.x >= A && var.x <= B`` validation lets through."""
    found = [
        (int(low), int(high))
        for validation in variable.get("validation", [])
        for low, high in re.findall(
            rf"var\.{name} >= (\d+) && var\.{name} <= (\d+)", ref(validation["condition"])
        )
    ]
    assert len(found) == 1, f"{name} needs one validation with both bounds"
    return found[0]


def samples(low: int, high: int) -> list[int]:
    return sorted({low, low + 1, (low + high) // 2, high - 1, high})


# --- The queue and its dead letters -------------------------------------------------------


def jsonencoded(expression: Any) -> dict[str, str]:
    """``${jsonencode({a = x, b = "y"})}`` -> {"a": "x", "b": '"y"'} (one level deep)."""
    match = re.fullmatch(r"jsonencode\(\{(.*)\}\)", ref(expression), re.S)
    assert match, expression
    return {
        key: value.strip() for key, value in re.findall(r"(\w+)\s*=\s*(\[[^\]]*\]|[^,]+)", match[1])
    }


def test_the_jobs_queue_has_a_dead_letter_queue_with_bounded_receives(terraform: Any) -> None:
    jobs = terraform.modules["jobs"]
    queue = jobs.resource("aws_sqs_queue", "jobs")
    dead = jobs.resource("aws_sqs_queue", "dead_letters")
    redrive = jsonencoded(queue["redrive_policy"])
    # The dead-letter queue is another queue, which itself sends nowhere.
    assert redrive["deadLetterTargetArn"] == "aws_sqs_queue.dead_letters.arn"
    assert "redrive_policy" not in dead
    assert redrive["maxReceiveCount"] == "var.max_receive_count"
    low, high = bounds(jobs.variables["max_receive_count"], "max_receive_count")
    assert 1 <= low <= high <= 20 < SQS_MAX_RECEIVE_COUNT, "a poison job must not cycle for long"
    # The root's variable, bounded the same way, with the default.
    call = terraform.root.modules["jobs"]
    assert ref(call["max_receive_count"]) == "var.jobs_max_receive_count"
    root_variable = terraform.root.variables["jobs_max_receive_count"]
    assert low <= root_variable["default"] <= high
    assert root_variable["default"] == 5
    root_low, root_high = bounds(root_variable, "jobs_max_receive_count")
    assert low <= root_low
    assert root_high <= high
    # Only the jobs queue may send its failures there.
    allow = jobs.resource("aws_sqs_queue_redrive_allow_policy", "dead_letters")
    assert ref(allow["queue_url"]) == "aws_sqs_queue.dead_letters.id"
    permission = jsonencoded(allow["redrive_allow_policy"])
    assert permission == {
        "redrivePermission": '"byQueue"',
        "sourceQueueArns": "[aws_sqs_queue.jobs.arn]",
    }


def test_dead_letters_outlive_the_jobs_they_were(terraform: Any) -> None:
    """A message keeps its first enqueue time in the dead-letter queue: with a retention no
    longer than the jobs queue's, a dead letter could expire as soon as it arrives."""
    jobs = terraform.modules["jobs"]
    queue = jobs.resource("aws_sqs_queue", "jobs")
    dead = jobs.resource("aws_sqs_queue", "dead_letters")
    kept = evaluate(dead["message_retention_seconds"], jobs, {})
    assert kept == 14 * 24 * 3600  # SQS's longest
    assert kept > evaluate(queue["message_retention_seconds"], jobs, {})


def test_queues_are_encrypted_and_long_polled(terraform: Any) -> None:
    jobs = terraform.modules["jobs"]
    for name in ("jobs", "dead_letters"):
        queue = jobs.resource("aws_sqs_queue", name)
        # SSE-SQS: no KMS key whose policy the roles would need.
        assert queue["sqs_managed_sse_enabled"] is True, name
        assert "kms_master_key_id" not in queue, name
    assert jobs.resource("aws_sqs_queue", "jobs")["receive_wait_time_seconds"] == 20


def test_the_visibility_timeout_is_six_times_the_worker_time_limit(terraform: Any) -> None:
    """Lambda retries a batch after throttling or a timeout; a job must not be received again
    while a worker still runs it. One variable is the Lambda worker's timeout, the basis of the
    ECS worker's stop timeout and of the visibility timeout; the service reads no time limit."""
    root = terraform.root
    jobs = terraform.modules["jobs"]
    lambda_api = terraform.modules["lambda_api"]
    limit = "var.worker_time_limit_seconds"
    assert ref(root.modules["jobs"]["worker_time_limit_seconds"]) == limit
    assert ref(root.modules["lambda_api"]["worker_timeout"]) == limit
    assert ref(root.modules["ecs_service"]["worker_time_limit_seconds"]) == limit
    assert "WORKER_TIME_LIMIT_SECONDS" not in root.locals["worker_environment"]
    function = lambda_api.resource("aws_lambda_function", "worker")
    assert ref(function["timeout"]) == "var.worker_timeout"

    queue = jobs.resource("aws_sqs_queue", "jobs")
    low, high = bounds(root.variables["worker_time_limit_seconds"], "worker_time_limit_seconds")
    assert high <= LAMBDA_MAX_TIMEOUT
    assert root.variables["worker_time_limit_seconds"]["default"] == 300
    module_low, module_high = bounds(
        jobs.variables["worker_time_limit_seconds"], "worker_time_limit_seconds"
    )
    assert module_low <= low
    assert high <= module_high
    for seconds in samples(low, high):
        visibility = evaluate(
            queue["visibility_timeout_seconds"], jobs, {"worker_time_limit_seconds": seconds}
        )
        assert visibility >= VISIBILITY_FACTOR * seconds, seconds
        assert visibility <= SQS_MAX_VISIBILITY_SECONDS, seconds


# --- The worker in Lambda mode --------------------------------------------------------------


def test_the_event_source_mapping_reports_batch_item_failures(terraform: Any) -> None:
    """Without ReportBatchItemFailures one failed job sends the whole batch back to the queue,
    and the jobs that were done run again (and move towards the dead letters)."""
    lambda_api = terraform.modules["lambda_api"]
    [(name, mapping)] = lambda_api.of_type("aws_lambda_event_source_mapping").items()
    assert mapping["function_response_types"] == ["ReportBatchItemFailures"]
    assert ref(mapping["function_name"]) == "aws_lambda_function.worker.arn"
    # The jobs queue, as the root module has it from the jobs module.
    assert ref(mapping["event_source_arn"]) == "var.jobs_queue_arn"
    assert ref(terraform.root.modules["lambda_api"]["jobs_queue_arn"]) == "local.jobs_queue_arn"
    assert ref(terraform.root.locals["jobs_queue_arn"]) == "one(module.jobs[*].queue_arn)"
    assert ref(terraform.modules["jobs"].outputs["queue_arn"]["value"]) == (
        "aws_sqs_queue.jobs.arn"
    )
    # A bounded number of invocations at a time.
    [scaling] = mapping["scaling_config"]
    assert ref(scaling["maximum_concurrency"]) == "var.worker_maximum_concurrency"
    low, high = bounds(
        lambda_api.variables["worker_maximum_concurrency"], "worker_maximum_concurrency"
    )
    assert low >= 2  # what Lambda accepts
    assert high <= 1000
    call = terraform.root.modules["lambda_api"]
    assert ref(call["worker_maximum_concurrency"]) == "var.lambda_worker_maximum_concurrency"
    # Lambda checks the role when the mapping is made: the queue policy must be there first.
    assert "${aws_iam_role_policy.worker_jobs}" in mapping["depends_on"], name


def test_the_lambda_worker_takes_one_job_per_invocation(terraform: Any) -> None:
    """The worker decodes one image at a time, and the jobs of a batch share one timeout: a
    slow job would time the others out with it, each a delivery lost towards the dead letters.
    One job per invocation, whatever the variables say; the handler still reports a failed
    job (ReportBatchItemFailures) rather than raise."""
    lambda_api = terraform.modules["lambda_api"]
    [mapping] = lambda_api.of_type("aws_lambda_event_source_mapping").values()
    assert mapping["batch_size"] == 1
    assert mapping.get("maximum_batching_window_in_seconds", 0) == 0
    assert mapping["function_response_types"] == ["ReportBatchItemFailures"]
    for module in terraform.all_modules():
        assert not [name for name in module.variables if "batch_size" in name], module.path


def handler_source(handler: str) -> tuple[Path, str]:
    module_name, _, attribute = handler.rpartition(".")
    return REPO_ROOT.joinpath(*module_name.split(".")).with_suffix(".py"), attribute


def test_the_lambda_worker_is_the_image_with_the_worker_handler(terraform: Any) -> None:
    lambda_api = terraform.modules["lambda_api"]
    api = lambda_api.resource("aws_lambda_function", "api")
    worker = lambda_api.resource("aws_lambda_function", "worker")
    for same in ("package_type", "image_uri", "architectures"):
        assert worker[same] == api[same], same
    # A role of its own, not the API's.
    assert ref(worker["role"]) == "aws_iam_role.worker.arn"
    assert ref(api["role"]) == "aws_iam_role.function.arn"
    [config] = worker["image_config"]
    [handler] = config["command"]
    source, attribute = handler_source(handler)
    assert source.is_file(), handler
    assert re.search(rf"^(def {attribute}\(|{attribute}\s*=)", source.read_text(), re.M), handler
    assert ref(worker["environment"][0]["variables"]) == "local.worker_environment"


def test_the_lambda_worker_can_spool_the_largest_upload(terraform: Any) -> None:
    """The worker spools an upload to /tmp while it hashes it."""
    worker = terraform.modules["lambda_api"].resource("aws_lambda_function", "worker")
    [storage] = worker["ephemeral_storage"]
    assert isinstance(storage["size"], int)
    assert 512 <= storage["size"] <= 10240  # Lambda's bounds, in MB
    assert storage["size"] * MIB >= MAX_FILE_SIZE_LIMIT


# --- The worker in ECS mode -----------------------------------------------------------------


def container(task: dict[str, Any]) -> str:
    """The one container of a task definition, as the HCL of its object."""
    definitions = ref(task["container_definitions"])
    match = re.fullmatch(r"jsonencode\(\[\{(.*)\}\]\)", definitions, re.S)
    assert match, definitions
    assert "}, {" not in re.sub(r"\{[^{}]*\}", "{}", match[1]), "one container"
    return match[1]


def test_the_ecs_worker_runs_python_m_service_worker_without_a_load_balancer(
    terraform: Any,
) -> None:
    ecs = terraform.modules["ecs_service"]
    task = ecs.resource("aws_ecs_task_definition", "worker")
    service = ecs.resource("aws_ecs_service", "worker")
    text = container(task)
    [command] = re.findall(r"\bcommand\s*=\s*(\[[^\]]*\])", text)
    assert json.loads(command) == ["python", "-m", "service", "worker"]
    assert re.search(r'add_parser\(\s*"worker"', CLI.read_text()), "python -m service worker"
    assert ref(re.findall(r"\bimage\s*=\s*([\w.]+)", text)[0]) == "var.image_uri"
    # Nothing listens: no port, no load balancer, no inbound rule.
    assert "portMappings" not in text
    assert "load_balancer" not in service
    assert "health_check_grace_period_seconds" not in service
    assert ref(service["task_definition"]) == "aws_ecs_task_definition.worker.arn"
    [network] = service["network_configuration"]
    assert network["assign_public_ip"] is False
    assert ref(network["subnets"]) == "var.private_subnet_ids"
    assert network["security_groups"] == ["${aws_security_group.worker.id}"]
    for kind in ("aws_vpc_security_group_ingress_rule", "aws_security_group_rule"):
        for name, rule in ecs.of_type(kind).items():
            assert "aws_security_group.worker." not in json.dumps(rule), name
    # Its own task role; the agent's role is the service's.
    assert ref(task["task_role_arn"]) == "aws_iam_role.worker_task.arn"
    assert ref(task["execution_role_arn"]) == "aws_iam_role.execution.arn"
    # Read-only root, /tmp on the task's storage, as the service's container.
    assert re.search(r"readonlyRootFilesystem\s*=\s*true", text)
    assert re.search(r'containerPath\s*=\s*"/tmp"', text)
    assert re.search(r"initProcessEnabled\s*=\s*true", text), "SIGTERM reaches the worker"


def test_the_ecs_worker_has_time_to_finish_its_job_after_sigterm(terraform: Any) -> None:
    """ECS sends SIGTERM, then SIGKILL stopTimeout seconds later (Fargate: at most 120 s, more
    is refused). The worker finishes the job in hand: the wait is its time limit, as far as
    Fargate allows."""
    ecs = terraform.modules["ecs_service"]
    text = container(ecs.resource("aws_ecs_task_definition", "worker"))
    [expression] = re.findall(r"\bstopTimeout\s*=\s*([\w.]+)", text)
    low, high = bounds(
        terraform.root.variables["worker_time_limit_seconds"], "worker_time_limit_seconds"
    )
    for seconds in samples(low, high):
        stop = evaluate("${" + expression + "}", ecs, {"worker_time_limit_seconds": seconds})
        assert stop <= FARGATE_MAX_STOP_TIMEOUT, seconds
        assert stop >= min(FARGATE_MAX_STOP_TIMEOUT, seconds), seconds
    # The service's own container is unchanged: gunicorn drains in 30 s.
    assert re.search(
        r"\bstopTimeout\s*=\s*30\b", container(ecs.resource("aws_ecs_task_definition", "service"))
    )


def test_the_ecs_worker_can_spool_the_largest_upload(terraform: Any) -> None:
    ecs = terraform.modules["ecs_service"]
    task = ecs.resource("aws_ecs_task_definition", "worker")
    [storage] = task["ephemeral_storage"]
    assert ref(storage["size_in_gib"]) == "var.worker_ephemeral_storage_gib"
    low, high = bounds(
        ecs.variables["worker_ephemeral_storage_gib"], "worker_ephemeral_storage_gib"
    )
    assert (low, high) == (21, 200)  # Fargate's bounds
    assert low * GIB >= MAX_FILE_SIZE_LIMIT
    call = terraform.root.modules["ecs_service"]
    assert ref(call["worker_ephemeral_storage_gib"]) == "var.ecs_worker_ephemeral_storage_gib"
    assert terraform.root.variables["ecs_worker_ephemeral_storage_gib"]["default"] >= low


# --- Who may do what with the queue ---------------------------------------------------------


def grants(document: dict[str, Any]) -> dict[str, set[str]]:
    """action -> resources it is allowed on."""
    found: dict[str, set[str]] = {}
    for statement in document.get("statement", []):
        if statement.get("effect", "Allow") != "Allow":
            continue
        for action in statement["actions"]:
            found.setdefault(action, set()).update(statement.get("resources", []))
    return found


def test_the_worker_may_take_jobs_from_the_jobs_queue_only(
    policy_documents: dict[str, dict[str, Any]],
) -> None:
    assert grants(policy_documents["jobs/consume"]) == {
        action: {JOBS_QUEUE} for action in CONSUME_ACTIONS
    }


def test_the_api_may_only_find_the_queue_and_send(
    policy_documents: dict[str, dict[str, Any]],
) -> None:
    assert grants(policy_documents["jobs/send"]) == {
        action: {JOBS_QUEUE} for action in SEND_ACTIONS
    }


def test_no_policy_grants_sqs_on_any_other_queue(
    policy_documents: dict[str, dict[str, Any]],
) -> None:
    """Not "*", not the dead-letter queue: listing dead letters is an operator's call."""
    seen = 0
    for name, document in policy_documents.items():
        for action, resources in grants(document).items():
            if action.startswith("sqs:"):
                seen += 1
                assert resources == {JOBS_QUEUE}, f"{name}: {action} on {resources}"
    assert seen == len(CONSUME_ACTIONS) + len(SEND_ACTIONS)


def role_policies(module: Any) -> dict[str, set[str]]:
    """role reference -> the policies attached to it inline."""
    found: dict[str, set[str]] = {}
    for body in module.of_type("aws_iam_role_policy").values():
        found.setdefault(ref(body["role"]), set()).add(ref(body["policy"]))
    return found


@pytest.mark.parametrize(
    ("module_name", "api_role", "worker_role"),
    [
        ("lambda_api", "aws_iam_role.function.id", "aws_iam_role.worker.id"),
        ("ecs_service", "aws_iam_role.task.id", "aws_iam_role.worker_task.id"),
    ],
)
def test_each_role_gets_its_side_of_the_queue(
    terraform: Any, module_name: str, api_role: str, worker_role: str
) -> None:
    module = terraform.modules[module_name]
    policies = role_policies(module)
    assert "var.queue_send_policy_json" in policies[api_role]
    assert "var.queue_consume_policy_json" not in policies[api_role]
    assert "var.queue_consume_policy_json" in policies[worker_role]
    assert "var.queue_send_policy_json" not in policies[worker_role]
    # The worker's data policy is its own, not the API's (which may list and delete originals).
    assert "var.worker_policy_json" in policies[worker_role]
    assert "var.service_policy_json" not in policies[worker_role]
    assert "var.worker_policy_json" not in policies[api_role]
    call = terraform.root.modules[module_name]
    assert ref(call["queue_send_policy_json"]) == "one(module.jobs[*].send_policy_json)"
    assert ref(call["queue_consume_policy_json"]) == "one(module.jobs[*].consume_policy_json)"
    assert ref(call["worker_policy_json"]) == "module.storage.worker_policy_json"
    jobs = terraform.modules["jobs"].outputs
    assert ref(jobs["send_policy_json"]["value"]) == "data.aws_iam_policy_document.send.json"
    assert ref(jobs["consume_policy_json"]["value"]) == "data.aws_iam_policy_document.consume.json"


# --- Alarms ------------------------------------------------------------------------------


def alarms_on(jobs: Any, metric: str) -> list[dict[str, Any]]:
    return [
        body
        for body in jobs.of_type("aws_cloudwatch_metric_alarm").values()
        if body["namespace"] == "AWS/SQS" and body["metric_name"] == metric
    ]


def test_an_alarm_fires_on_any_dead_letter(terraform: Any) -> None:
    jobs = terraform.modules["jobs"]
    [alarm] = alarms_on(jobs, "ApproximateNumberOfMessagesVisible")
    assert alarm["dimensions"] == {"QueueName": "${aws_sqs_queue.dead_letters.name}"}
    assert alarm["comparison_operator"] == "GreaterThanThreshold"
    assert alarm["threshold"] == 0
    assert alarm["statistic"] == "Maximum"
    assert alarm["evaluation_periods"] == 1


def test_an_alarm_fires_when_jobs_wait_too_long(terraform: Any) -> None:
    jobs = terraform.modules["jobs"]
    [alarm] = alarms_on(jobs, "ApproximateAgeOfOldestMessage")
    assert alarm["dimensions"] == {"QueueName": "${aws_sqs_queue.jobs.name}"}
    assert alarm["comparison_operator"] == "GreaterThanThreshold"
    assert ref(alarm["threshold"]) == "var.oldest_message_alarm_seconds"
    assert alarm["statistic"] == "Maximum"
    call = terraform.root.modules["jobs"]
    assert ref(call["oldest_message_alarm_seconds"]) == "var.jobs_oldest_message_alarm_seconds"
    threshold = terraform.root.variables["jobs_oldest_message_alarm_seconds"]["default"]
    # Above what a job may take, so that a busy worker alone does not fire it.
    limit = terraform.root.variables["worker_time_limit_seconds"]["default"]
    assert threshold > limit


def test_the_alarms_notify_the_topic_when_there_is_one(terraform: Any) -> None:
    jobs = terraform.modules["jobs"]
    alarms = jobs.of_type("aws_cloudwatch_metric_alarm")
    assert len(alarms) == 2
    for name, alarm in alarms.items():
        assert ref(alarm["alarm_actions"]) == "local.alarm_actions", name
        assert ref(alarm["ok_actions"]) == "local.alarm_actions", name
        assert alarm.get("actions_enabled", True) is True, name
    assert ref(jobs.locals["alarm_actions"]) == (
        "var.alarm_topic_arn == null ? [] : [var.alarm_topic_arn]"
    )
    assert ref(terraform.root.modules["jobs"]["alarm_topic_arn"]) == "var.alarm_topic_arn"
    assert terraform.root.variables["alarm_topic_arn"]["default"] is None


# --- The worker's memory and its decode budget ----------------------------------------------


def test_the_worker_decode_budget_is_a_fraction_of_its_memory(terraform: Any) -> None:
    """WORKER_MAX_DECODED_BYTES is worked out from the memory Terraform gives the worker, the
    same variable in both modes, and leaves most of it to the rest of the process."""
    root = terraform.root
    assert ref(root.locals["worker_environment"]["WORKER_MAX_DECODED_BYTES"]) == (
        "tostring(local.worker_max_decoded_bytes)"
    )
    lambda_call, ecs_call = root.modules["lambda_api"], root.modules["ecs_service"]
    assert ref(lambda_call["worker_memory_size"]) == "var.worker_memory_mb"
    assert ref(ecs_call["worker_memory"]) == "var.worker_memory_mb"
    function = terraform.modules["lambda_api"].resource("aws_lambda_function", "worker")
    assert ref(function["memory_size"]) == "var.worker_memory_size"
    task = terraform.modules["ecs_service"].resource("aws_ecs_task_definition", "worker")
    assert ref(task["memory"]) == "var.worker_memory"

    variable = root.variables["worker_memory_mb"]
    assert variable["default"] == 2048
    low, high = bounds(variable, "worker_memory_mb")
    for memory in [*samples(low, high), 3000, 4096]:
        budget = evaluate(
            root.locals["worker_max_decoded_bytes"], root, {"worker_memory_mb": memory}
        )
        assert isinstance(budget, int), "an integer setting"
        assert memory * MIB // 5 <= budget <= memory * MIB // 2, (memory, budget)
    # At the defaults, the largest image the worker accepts fits its budget (4 bytes a pixel).
    default_budget = evaluate(
        root.locals["worker_max_decoded_bytes"], root, {"worker_memory_mb": variable["default"]}
    )
    assert root.variables["worker_max_image_pixels"]["default"] * 4 <= default_budget
    assert ref(root.locals["worker_environment"]["WORKER_MAX_IMAGE_PIXELS"]) == (
        "tostring(var.worker_max_image_pixels)"
    )


# --- The names the deploy pipeline grants on ------------------------------------------------


def test_the_pipeline_names_the_worker_function_and_roles_the_stack_makes(
    terraform: Any, github_deploy: Any
) -> None:
    """The apply role may feed the worker function only, by its ARN, and pass its roles."""
    lambda_api = terraform.modules["lambda_api"]
    name = terraform.root.modules["lambda_api"]["name"]
    worker = lambda_api.locals["worker_name"].replace("${var.name}", name)
    assert ref(lambda_api.resource("aws_lambda_function", "worker")["function_name"]) == (
        "local.worker_name"
    )
    assert github_deploy.locals["worker_function"].endswith(f":function:{worker}")
    role = lambda_api.resource("aws_iam_role", "worker")["name"]
    assert role.replace("${local.worker_name}", worker) in "".join(
        github_deploy.locals["lambda_roles"]
    )
    ecs = terraform.modules["ecs_service"]
    ecs_name = terraform.root.modules["ecs_service"]["name"]
    ecs_role = ecs.resource("aws_iam_role", "worker_task")["name"]
    ecs_role = ecs_role.replace("${local.worker_name}", ecs.locals["worker_name"])
    ecs_role = ecs_role.replace("${var.name}", ecs_name)
    assert any(arn.endswith(f":role/{ecs_role}") for arn in github_deploy.locals["ecs_task_roles"])
