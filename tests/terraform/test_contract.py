"""The Terraform agrees with the service: table keys and indexes, and environment variables.

The service's table definition (service/adapters/dynamodb/table.py) and its settings module
(service/settings.py, the only reader of the environment) are the sources of truth.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from service.adapters.dynamodb.table import SWEEP_INDEX, TTL_ATTRIBUTE, table_definition
from service.bootstrap import build_token_verifier
from service.domain.model import ACCEPTED_CONTENT_TYPES
from service.entrypoints.provisioning import GALLERY_UPLOAD_EXPOSED_HEADERS, GALLERY_UPLOAD_METHODS
from service.settings import MAX_FILE_SIZE_LIMIT, Settings, SettingsError

SETTINGS_SOURCE = Path(__file__).resolve().parents[2] / "service" / "settings.py"

# Sign-in as the service does it in AWS: AUTH_MODE=jwt said explicitly (not left to the
# default), and what that mode cannot start without (service/bootstrap.py).
REQUIRED_AUTH_ENV = {"AUTH_MODE", "AUTH_ISSUER", "AUTH_CLIENT_IDS"}
# Variables the service needs in AWS (the rest have working defaults).
REQUIRED_ENV = {
    "S3_BUCKET_NAME",
    "DYNAMODB_TABLE_NAME",
    "CURSOR_SECRET",
    "MAX_FILE_SIZE",
    # What POST /images takes (the service's default suits; Terraform says it, as MAX_FILE_SIZE).
    "MAX_DIRECT_UPLOAD_SIZE",
    "ALLOWED_CONTENT_TYPES",
    "ADMIN_GROUP",
    "PUBLIC_READ",
    # The queue the API sends jobs to (its default suits no other name_prefix).
    "JOBS_QUEUE_NAME",
} | REQUIRED_AUTH_ENV
REQUIRED_LAMBDA_ENV = REQUIRED_ENV | {"MAX_REQUEST_BODY"}
REQUIRED_ECS_ENV = REQUIRED_ENV | {"PORT"}
# The worker's own, in both modes: its decode budget. Its time limit is no setting (Lambda's
# timeout, ECS's stop timeout).
WORKER_ENV = {"WORKER_MAX_DECODED_BYTES", "WORKER_MAX_IMAGE_PIXELS"}
# Only for local runs against LocalStack/moto: setting them in AWS would misroute calls.
LOCAL_ONLY_ENV = {"AWS_ENDPOINT_URL", "S3_PUBLIC_ENDPOINT_URL"}


def ref(expression: Any) -> str:
    """``${module.storage.bucket_name}`` -> ``module.storage.bucket_name``."""
    text = str(expression)
    match = re.fullmatch(r"\$\{(.*)\}", text, flags=re.DOTALL)
    return match.group(1).strip() if match else text


# --- DynamoDB ----------------------------------------------------------------------------


def key_schema(keys: list[dict[str, str]]) -> dict[str, str]:
    return {key["KeyType"]: key["AttributeName"] for key in keys}


def index_keys(gsi: dict[str, Any]) -> dict[str, str | None]:
    """An index's keys from hash_key/range_key or from key_schema blocks (aws provider 6.29+)."""
    if "key_schema" in gsi:
        return {"RANGE": None} | {k["key_type"]: k["attribute_name"] for k in gsi["key_schema"]}
    return {"HASH": gsi["hash_key"], "RANGE": gsi.get("range_key")}


def test_service_defines_the_sweep_index() -> None:
    names = [index["IndexName"] for index in table_definition("x")["GlobalSecondaryIndexes"]]
    assert SWEEP_INDEX in names


def test_table_matches_service_definition(terraform: Any) -> None:
    expected = table_definition("x")
    table = terraform.modules["storage"].resource("aws_dynamodb_table", "images")

    assert table["billing_mode"] == expected["BillingMode"]
    assert {"HASH": table["hash_key"], "RANGE": table.get("range_key")} == key_schema(
        expected["KeySchema"]
    )
    assert {a["name"]: a["type"] for a in table["attribute"]} == {
        a["AttributeName"]: a["AttributeType"] for a in expected["AttributeDefinitions"]
    }

    actual_indexes = {
        gsi["name"]: {
            "keys": index_keys(gsi),
            "projection": gsi["projection_type"],
            "non_key_attributes": sorted(gsi.get("non_key_attributes", [])),
        }
        for gsi in table.get("global_secondary_index", [])
    }
    expected_indexes = {
        gsi["IndexName"]: {
            "keys": key_schema(gsi["KeySchema"]),
            "projection": gsi["Projection"]["ProjectionType"],
            "non_key_attributes": sorted(gsi["Projection"].get("NonKeyAttributes", [])),
        }
        for gsi in expected.get("GlobalSecondaryIndexes", [])
    }
    assert actual_indexes == expected_indexes
    assert "local_secondary_index" not in table
    assert not expected.get("LocalSecondaryIndexes")
    assert table["ttl"] == [{"attribute_name": TTL_ATTRIBUTE, "enabled": True}]


def test_table_is_protected(terraform: Any) -> None:
    table = terraform.modules["storage"].resource("aws_dynamodb_table", "images")
    assert table["point_in_time_recovery"][0]["enabled"] is True
    assert table["server_side_encryption"][0]["enabled"] is True
    # Only finished upload sessions carry the TTL attribute (images never do).
    assert table["ttl"] == [{"attribute_name": TTL_ATTRIBUTE, "enabled": True}]


def test_bucket_is_locked_down(terraform: Any) -> None:
    storage = terraform.modules["storage"]
    block = storage.resource("aws_s3_bucket_public_access_block", "images")
    for setting in (
        "block_public_acls",
        "block_public_policy",
        "ignore_public_acls",
        "restrict_public_buckets",
    ):
        assert block[setting] is True, setting
    ownership = storage.resource("aws_s3_bucket_ownership_controls", "images")
    assert ownership["rule"][0]["object_ownership"] == "BucketOwnerEnforced"
    versioning = storage.resource("aws_s3_bucket_versioning", "images")
    assert versioning["versioning_configuration"][0]["status"] == "Enabled"
    rules = storage.resource("aws_s3_bucket_lifecycle_configuration", "images")["rule"]
    assert any("abort_incomplete_multipart_upload" in rule for rule in rules)
    assert any("noncurrent_version_expiration" in rule for rule in rules)


def test_the_bucket_lets_the_deployed_gallery_pages_upload_and_no_other_page(
    terraform: Any,
) -> None:
    """The gallery sends upload bytes to S3 from the page: the bucket's CORS rule allows what
    the emulators' rule allows (service/entrypoints/provisioning.py), from each deployed mode's
    origin."""
    cors = terraform.root.resource("aws_s3_bucket_cors_configuration", "gallery_uploads")
    (rule,) = cors["cors_rule"]
    assert tuple(rule["allowed_methods"]) == GALLERY_UPLOAD_METHODS
    assert tuple(rule["expose_headers"]) == GALLERY_UPLOAD_EXPOSED_HEADERS
    assert rule["allowed_origins"] == "${local.gallery_origins}"
    origins = terraform.root.locals["gallery_origins"]
    for source in (
        "module.lambda_api[*].api_url",
        "module.ecs_service[*].url",
        "var.gallery_origins",
    ):
        assert source in origins
    assert '"*"' not in origins
    # The HTTP API's URL ends with "/" (its $default stage): the origin is scheme and host.
    (pattern,) = re.findall(r'regex\("([^"]+)", url\)', origins)
    invoke_url = "https://a1b2c3d4e5.execute-api.eu-west-3.amazonaws.com/"
    assert re.match(pattern, invoke_url)[0] == invoke_url.rstrip("/")  # type: ignore[index]
    validation = terraform.root.variables["gallery_origins"]["validation"][0]["condition"]
    (allowed,) = re.findall(r'regex\("([^"]+)", origin\)', validation)
    assert re.match(allowed, "https://photos.example.com")
    assert not re.match(allowed, "https://photos.example.com/")
    assert not re.match(allowed, "*")


# --- Environment -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def names_the_service_reads() -> set[str]:
    """Quoted upper-case names in the settings module, the only reader of os.environ."""
    return set(re.findall(r"[\"']([A-Z][A-Z0-9_]+)[\"']", SETTINGS_SOURCE.read_text()))


# Size limits: Terraform's variable and the setting, with the service's default and bounds.
SIZE_SETTINGS = {
    "MAX_FILE_SIZE": "max_file_size",
    "MAX_DIRECT_UPLOAD_SIZE": "max_direct_upload_size",
}


def validated_range(variable: dict[str, Any], name: str) -> tuple[int, int]:
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


@pytest.mark.parametrize(("setting", "variable"), SIZE_SETTINGS.items())
def test_size_limits_are_the_services(terraform: Any, setting: str, variable: str) -> None:
    """The default is the service's (a deployment gets what a local run gets), and the
    variable accepts what settings.py accepts: at most one CopyObject (5 GiB)."""
    root = terraform.root
    assert ref(root.locals["service_environment"][setting]) == f"tostring(var.{variable})"
    declared = root.variables[variable]
    assert declared["type"] == "number"
    default = declared["default"]
    assert default == getattr(Settings(), variable)
    assert getattr(Settings.from_env({setting: str(default)}), variable) == default
    low, high = validated_range(declared, variable)
    assert (low, high) == (1, MAX_FILE_SIZE_LIMIT)
    for value in (low, high):
        assert getattr(Settings.from_env({setting: str(value)}), variable) == value
    for value in (low - 1, high + 1):
        with pytest.raises(SettingsError):
            Settings.from_env({setting: str(value)})


def test_the_default_sizes_send_large_files_through_upload_sessions(terraform: Any) -> None:
    """256 MiB through sessions, 16 MiB through POST /images; under Lambda the request is
    capped lower still (MAX_REQUEST_BODY, 4.5 MB), and larger files take a session."""
    variables = terraform.root.variables
    direct = variables["max_direct_upload_size"]["default"]
    assert variables["max_file_size"]["default"] == 256 * 1024 * 1024
    assert direct == 16 * 1024 * 1024
    assert direct < variables["max_file_size"]["default"]
    assert variables["lambda_max_request_body"]["default"] < direct


def test_settings_module_reads_the_required_names(names_the_service_reads: set[str]) -> None:
    assert names_the_service_reads >= REQUIRED_LAMBDA_ENV | REQUIRED_ECS_ENV | LOCAL_ONLY_ENV


def test_required_auth_settings_are_what_jwt_mode_needs() -> None:
    """With the AUTH_* names Terraform must set, the service builds its token verifier; without
    the issuer or the client ids, it refuses to start. AUTH_MODE itself defaults to jwt, but is
    required so that no default can turn verification off."""
    example = {
        "AUTH_MODE": "jwt",
        "AUTH_ISSUER": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example",
        "AUTH_CLIENT_IDS": "exampleclientid",
    }
    assert set(example) == REQUIRED_AUTH_ENV
    settings = Settings.from_env(example)
    assert settings.auth_mode == "jwt"
    assert build_token_verifier(settings)
    for name in REQUIRED_AUTH_ENV - {"AUTH_MODE"}:
        without = {key: value for key, value in example.items() if key != name}
        with pytest.raises(SettingsError):
            build_token_verifier(Settings.from_env(without))


@pytest.mark.parametrize("function", ["api", "sweeper"])
def test_lambda_functions_set_the_module_environment(terraform: Any, function: str) -> None:
    body = terraform.modules["lambda_api"].resource("aws_lambda_function", function)
    assert ref(body["environment"][0]["variables"]) == "local.environment"
    assert body["package_type"] == "Image"


def module_environment(terraform: Any, module_name: str) -> dict[str, Any]:
    """What a module's functions or containers get: the root module's common settings
    merged with the module's own."""
    module = terraform.modules[module_name]
    assert ref(module.locals["environment"]) == (
        "merge(var.service_environment, local.own_environment)"
    )
    assert ref(terraform.root.modules[module_name]["service_environment"]) == (
        "local.service_environment"
    )
    common = terraform.root.locals["service_environment"]
    own = module.locals["own_environment"]
    assert not set(common) & set(own), "a module must not override a common setting"
    return {**common, **own}


def test_lambda_environment(terraform: Any, names_the_service_reads: set[str]) -> None:
    module = terraform.modules["lambda_api"]
    environment = module_environment(terraform, "lambda_api")
    assert set(environment) >= REQUIRED_LAMBDA_ENV, REQUIRED_LAMBDA_ENV - set(environment)
    assert set(environment) <= names_the_service_reads, set(environment) - names_the_service_reads
    assert not set(environment) & LOCAL_ONLY_ENV
    # Lambda reserves AWS_* (AWS_REGION, AWS_DEFAULT_REGION, ...) and rejects them.
    assert not [name for name in environment if name.startswith("AWS_")]
    assert ref(environment["MAX_REQUEST_BODY"]) == "tostring(var.max_request_body)"
    assert module.variables["max_request_body"]["default"] == 4500000


def test_ecs_container_uses_the_module_environment(terraform: Any) -> None:
    task = terraform.modules["ecs_service"].resource("aws_ecs_task_definition", "service")
    definitions = ref(task["container_definitions"])
    assert re.search(
        r"environment\s*=\s*\[\s*for\s+\w+\s*,\s*\w+\s+in\s+local\.environment", definitions
    )
    assert re.search(r"readonlyRootFilesystem\s*=\s*true", definitions)
    assert re.search(r"containerPath\s*=\s*\"/tmp\"", definitions)
    assert task["requires_compatibilities"] == ["FARGATE"]


def test_ecs_environment(terraform: Any, names_the_service_reads: set[str]) -> None:
    module = terraform.modules["ecs_service"]
    environment = module_environment(terraform, "ecs_service")
    gunicorn = {"GUNICORN_WORKERS", "GUNICORN_THREADS", "GUNICORN_WORKER_CLASS"}
    assert REQUIRED_ECS_ENV | gunicorn <= set(environment)
    assert set(environment) <= names_the_service_reads, set(environment) - names_the_service_reads
    assert not set(environment) & LOCAL_ONLY_ENV
    assert module.variables["container_port"]["default"] == 8000
    target_group = module.resource("aws_lb_target_group", "service")
    assert target_group["health_check"][0]["path"] == "/health"


@pytest.mark.parametrize("module_name", ["lambda_api", "ecs_service"])
def test_environment_is_wired_from_the_resources(terraform: Any, module_name: str) -> None:
    environment = module_environment(terraform, module_name)
    assert ref(environment["S3_BUCKET_NAME"]) == "module.storage.bucket_name"
    assert ref(environment["DYNAMODB_TABLE_NAME"]) == "module.storage.table_name"
    assert ref(environment["CURSOR_SECRET"]) == "random_password.cursor_secret.result"

    call = terraform.root.modules[module_name]
    assert ref(call["service_policy_json"]) == "module.storage.service_policy_json"
    assert terraform.modules[module_name].variables["service_environment"]["sensitive"] is True

    storage_outputs = terraform.modules["storage"].outputs
    assert ref(storage_outputs["bucket_name"]["value"]) == "aws_s3_bucket.images.bucket"
    assert ref(storage_outputs["table_name"]["value"]) == "aws_dynamodb_table.images.name"


def worker_environment(terraform: Any, module_name: str) -> dict[str, Any]:
    """What a module's worker gets: the root module's common settings, the module's own for
    the worker, and the root module's worker settings, none overriding another."""
    module = terraform.modules[module_name]
    call = terraform.root.modules[module_name]
    assert ref(call["service_environment"]) == "local.service_environment"
    assert ref(call["worker_environment"]) == "local.worker_environment"
    sources = {
        "var.service_environment": terraform.root.locals["service_environment"],
        "var.worker_environment": terraform.root.locals["worker_environment"],
    }
    merged = re.fullmatch(r"merge\((.*)\)", ref(module.locals["worker_environment"]))
    assert merged, module.locals["worker_environment"]
    environment: dict[str, Any] = {}
    for part in merged[1].split(","):
        part = part.strip()
        values = sources[part] if part in sources else module.locals[part.removeprefix("local.")]
        assert not set(values) & set(environment), f"{module_name}: {part} overrides a setting"
        environment |= values
    return environment


@pytest.mark.parametrize("module_name", ["lambda_api", "ecs_service"])
def test_worker_environment(
    terraform: Any, module_name: str, names_the_service_reads: set[str]
) -> None:
    environment = worker_environment(terraform, module_name)
    assert set(environment) >= REQUIRED_ENV | WORKER_ENV, REQUIRED_ENV | WORKER_ENV - set(
        environment
    )
    assert set(environment) <= names_the_service_reads, set(environment) - names_the_service_reads
    assert not set(environment) & LOCAL_ONLY_ENV
    # It serves no requests: no body limit, no port, no gunicorn.
    assert not {"MAX_REQUEST_BODY", "PORT"} & set(environment)
    assert not [name for name in environment if name.startswith("GUNICORN_")]
    if module_name == "lambda_api":
        assert not [name for name in environment if name.startswith("AWS_")]  # reserved
    else:
        assert ref(environment["AWS_DEFAULT_REGION"]) == "data.aws_region.current.region"
    # The same stores and queue as the API.
    assert ref(environment["S3_BUCKET_NAME"]) == "module.storage.bucket_name"
    assert ref(environment["DYNAMODB_TABLE_NAME"]) == "module.storage.table_name"
    assert ref(environment["JOBS_QUEUE_NAME"]) == "local.jobs_queue_name"
    assert ref(terraform.root.locals["jobs_queue_name"]) == "one(module.jobs[*].queue_name)"
    assert ref(terraform.modules["jobs"].outputs["queue_name"]["value"]) == (
        "aws_sqs_queue.jobs.name"
    )


def test_worker_settings_are_wired_to_their_containers(terraform: Any) -> None:
    function = terraform.modules["lambda_api"].resource("aws_lambda_function", "worker")
    assert ref(function["environment"][0]["variables"]) == "local.worker_environment"
    task = terraform.modules["ecs_service"].resource("aws_ecs_task_definition", "worker")
    definitions = ref(task["container_definitions"])
    assert re.search(
        r"environment\s*=\s*\[\s*for\s+\w+\s*,\s*\w+\s+in\s+local\.worker_environment",
        definitions,
    )


def test_sweeper_handler_exists_in_the_service(terraform: Any) -> None:
    sweeper = terraform.modules["lambda_api"].resource("aws_lambda_function", "sweeper")
    (handler,) = sweeper["image_config"][0]["command"]
    module_name, _, attribute = handler.rpartition(".")
    source = (
        Path(__file__).resolve().parents[2].joinpath(*module_name.split(".")).with_suffix(".py")
    )
    assert source.is_file(), handler
    assert re.search(rf"^(def {attribute}\(|{attribute}\s*=)", source.read_text(), re.M), handler


# --- Root module -------------------------------------------------------------------------


def test_providers_are_pinned(terraform: Any) -> None:
    (settings,) = terraform.root.terraform
    assert settings["required_version"].startswith(">=")
    (providers,) = settings["required_providers"]
    assert providers["aws"] == {"source": "hashicorp/aws", "version": "~> 6.0"}
    assert providers["random"]["source"] == "hashicorp/random"


def test_modes_are_switched_by_booleans(terraform: Any) -> None:
    root = terraform.root
    assert root.variables["enable_lambda"]["type"] == "bool"
    assert root.variables["enable_ecs"]["type"] == "bool"
    assert ref(root.modules["lambda_api"]["count"]) == "var.enable_lambda ? 1 : 0"
    assert ref(root.modules["ecs_service"]["count"]) == "var.enable_ecs ? 1 : 0"
    for output in ("api_url", "alb_url"):
        assert output in root.outputs


def test_ecr_repository_is_scanned_and_immutable(terraform: Any) -> None:
    repo = terraform.root.resource("aws_ecr_repository", "service")
    assert repo["image_tag_mutability"] == "IMMUTABLE"
    assert repo["image_scanning_configuration"][0]["scan_on_push"] is True


def test_http_api_uses_payload_v2_with_throttling_and_access_logs(terraform: Any) -> None:
    module = terraform.modules["lambda_api"]
    assert module.resource("aws_apigatewayv2_api", "http")["protocol_type"] == "HTTP"
    integration = module.resource("aws_apigatewayv2_integration", "lambda")
    assert integration["payload_format_version"] == "2.0"
    stage = module.resource("aws_apigatewayv2_stage", "default")
    settings = stage["default_route_settings"][0]
    assert "throttling_burst_limit" in settings
    assert "throttling_rate_limit" in settings
    log_format = json.loads(json.dumps(stage["access_log_settings"][0]))
    assert "destination_arn" in log_format


def test_the_default_content_types_are_every_one_the_service_accepts(terraform: Any) -> None:
    """A stack deployed with the defaults takes what the service takes: HEIC and AVIF too."""
    default = terraform.root.variables["allowed_content_types"]["default"]
    assert tuple(default) == ACCEPTED_CONTENT_TYPES
    example = (Path(__file__).parents[2] / "terraform" / "terraform.tfvars.example").read_text()
    assert all(content_type in example for content_type in ACCEPTED_CONTENT_TYPES)
