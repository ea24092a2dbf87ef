# Lambda mode: the service image as a Lambda function behind an API Gateway HTTP API
# (payload format 2.0, which apig-wsgi handles; HTTP APIs need no binary media types and are
# cheaper and faster than REST APIs). The image enters Lambda mode by itself when
# AWS_LAMBDA_RUNTIME_API is set, so no image_config override is needed for the API.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  # The service's settings (service/settings.py): the common ones from the root module, plus
  # the Lambda body limit. AWS_DEFAULT_REGION is reserved in Lambda (the runtime sets
  # AWS_REGION); AWS_ENDPOINT_URL/S3_PUBLIC_ENDPOINT_URL are for local runs only.
  own_environment = {
    MAX_REQUEST_BODY = tostring(var.max_request_body)
  }
  environment = merge(var.service_environment, local.own_environment)

  sweeper_enabled = var.sweep_schedule_expression != null
  sweeper_name    = "${var.name}-sweeper"

  # The worker: the common settings and its own (the queue's name is among the common ones,
  # for the API sends to it); no MAX_REQUEST_BODY, it serves no requests.
  worker_name        = "${var.name}-worker"
  worker_environment = merge(var.service_environment, var.worker_environment)

  log_group_arn_prefix = join(":", [
    "arn", data.aws_partition.current.partition, "logs", data.aws_region.current.region,
    data.aws_caller_identity.current.account_id, "log-group",
  ])
}

# --- Logs --------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "function" {
  #checkov:skip=CKV_AWS_158:Log groups are encrypted by CloudWatch Logs by default; a KMS CMK adds key-policy management and is not required here.
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
}

resource "aws_cloudwatch_log_group" "sweeper" {
  #checkov:skip=CKV_AWS_158:Log groups are encrypted by CloudWatch Logs by default; a KMS CMK adds key-policy management and is not required here.
  count = local.sweeper_enabled ? 1 : 0

  name              = "/aws/lambda/${local.sweeper_name}"
  retention_in_days = var.log_retention_days
}

resource "aws_cloudwatch_log_group" "worker" {
  #checkov:skip=CKV_AWS_158:Log groups are encrypted by CloudWatch Logs by default; a KMS CMK adds key-policy management and is not required here.
  name              = "/aws/lambda/${local.worker_name}"
  retention_in_days = var.log_retention_days
}

resource "aws_cloudwatch_log_group" "api_access" {
  #checkov:skip=CKV_AWS_158:Log groups are encrypted by CloudWatch Logs by default; a KMS CMK adds key-policy management and is not required here.
  name              = "/aws/apigateway/${var.name}/access"
  retention_in_days = var.log_retention_days
}

# --- IAM ---------------------------------------------------------------------------------

data "aws_iam_policy_document" "assume_role" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "function" {
  name                 = "${var.name}-lambda"
  assume_role_policy   = data.aws_iam_policy_document.assume_role.json
  permissions_boundary = var.role_permissions_boundary
}

data "aws_iam_policy_document" "runtime" {
  statement {
    sid     = "WriteOwnLogs"
    actions = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [
      "${aws_cloudwatch_log_group.function.arn}:*",
      "${local.log_group_arn_prefix}:/aws/lambda/${local.sweeper_name}:*",
    ]
  }

  # X-Ray write actions do not support resource-level permissions.
  statement {
    sid = "WriteTraces"
    actions = [
      "xray:PutTraceSegments",
      "xray:PutTelemetryRecords",
    ]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "runtime" {
  name   = "logs-and-traces"
  role   = aws_iam_role.function.id
  policy = data.aws_iam_policy_document.runtime.json
}

resource "aws_iam_role_policy" "data_access" {
  name   = "image-data-access"
  role   = aws_iam_role.function.id
  policy = var.service_policy_json
}

resource "aws_iam_role_policy" "send_jobs" {
  name   = "send-jobs"
  role   = aws_iam_role.function.id
  policy = var.queue_send_policy_json
}

# The worker's own role: its objects and the table (not the API's), the jobs queue, its logs.
resource "aws_iam_role" "worker" {
  name                 = local.worker_name
  assume_role_policy   = data.aws_iam_policy_document.assume_role.json
  permissions_boundary = var.role_permissions_boundary
}

data "aws_iam_policy_document" "worker_runtime" {
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.worker.arn}:*"]
  }

  # X-Ray write actions do not support resource-level permissions.
  statement {
    sid = "WriteTraces"
    actions = [
      "xray:PutTraceSegments",
      "xray:PutTelemetryRecords",
    ]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "worker_runtime" {
  name   = "logs-and-traces"
  role   = aws_iam_role.worker.id
  policy = data.aws_iam_policy_document.worker_runtime.json
}

resource "aws_iam_role_policy" "worker_data_access" {
  name   = "worker-data-access"
  role   = aws_iam_role.worker.id
  policy = var.worker_policy_json
}

resource "aws_iam_role_policy" "worker_jobs" {
  name   = "consume-jobs"
  role   = aws_iam_role.worker.id
  policy = var.queue_consume_policy_json
}

# --- Function ----------------------------------------------------------------------------

resource "aws_lambda_function" "api" {
  #checkov:skip=CKV_AWS_116:Invoked synchronously by API Gateway; the caller gets the error, so a dead-letter queue (async invocations only) would never receive anything.
  #checkov:skip=CKV_AWS_117:The function only calls public AWS endpoints (S3, DynamoDB, the user pool JWKS); a VPC would add NAT gateway or endpoint cost without reducing exposure.
  #checkov:skip=CKV_AWS_173:Environment variables are encrypted at rest with the AWS managed Lambda key; a KMS CMK adds key-policy management and is not required here.
  #checkov:skip=CKV_AWS_272:Code signing is not supported for container image functions; image integrity comes from ECR (immutable tags, scan on push).
  function_name = var.name
  role          = aws_iam_role.function.arn
  package_type  = "Image"
  image_uri     = var.image_uri
  architectures = [var.architecture]
  memory_size   = var.memory_size
  timeout       = var.timeout

  reserved_concurrent_executions = var.reserved_concurrency

  tracing_config {
    mode = var.tracing_mode
  }

  environment {
    variables = local.environment
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.function.name
  }

  depends_on = [
    aws_iam_role_policy.runtime,
    aws_iam_role_policy.data_access,
    aws_iam_role_policy.send_jobs,
  ]
}

# --- HTTP API ----------------------------------------------------------------------------

resource "aws_apigatewayv2_api" "http" {
  name          = var.name
  protocol_type = "HTTP"
  description   = "mPyCloud image service (Lambda proxy, payload format 2.0)"

  # Browser apps on the deployment's other origins: API Gateway answers their preflights
  # itself and adds the CORS headers to the function's answers. Tokens travel in the
  # Authorization header, so no credentials (cookies) cross origins.
  dynamic "cors_configuration" {
    for_each = length(var.cors_allow_origins) > 0 ? [true] : []

    content {
      allow_origins     = var.cors_allow_origins
      allow_methods     = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
      allow_headers     = ["authorization", "content-type", "idempotency-key"]
      expose_headers    = ["etag", "location", "www-authenticate"]
      allow_credentials = false
      max_age           = 3600
    }
  }
}

resource "aws_apigatewayv2_integration" "lambda" {
  api_id                 = aws_apigatewayv2_api.http.id
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = aws_lambda_function.api.invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = 30000
}

# Sign-in: API Gateway refuses a request without a valid token of the user pool's app client
# (401) before it reaches the function. The service verifies every token again itself (the
# same issuer and client, local.service_environment in the root module): ECS mode has no
# authorizer in front of it, and the service alone knows who may change what.
resource "aws_apigatewayv2_authorizer" "jwt" {
  api_id           = aws_apigatewayv2_api.http.id
  name             = "${var.name}-jwt"
  authorizer_type  = "JWT"
  identity_sources = ["$request.header.Authorization"]

  jwt_configuration {
    issuer   = var.jwt_issuer
    audience = var.jwt_audience
  }
}

locals {
  # What the service serves to anyone (service/api/auth.py: the health and api-docs
  # blueprints): /docs and the files of its page (Swagger UI's, served by the service).
  # HEAD is GET without the body: each GET route has a HEAD twin with its authorization, or a
  # HEAD would fall to $default and need a token where the GET does not.
  public_routes = [
    "GET /health",
    "HEAD /health",
    "GET /health/ready",
    "HEAD /health/ready",
    "GET /openapi.json",
    "HEAD /openapi.json",
    "GET /docs",
    "HEAD /docs",
    "GET /docs/{proxy+}",
    "HEAD /docs/{proxy+}",
  ]
  # Reads: open to anonymous callers when public_read is true, as the service's PUBLIC_READ
  # (GET /images/{id}, its /download and /thumbnail). Writes stay on the $default route.
  read_routes = ["GET /images", "HEAD /images", "GET /images/{proxy+}", "HEAD /images/{proxy+}"]
  # The gallery (service/web): its pages carry the token in a session cookie, not in an
  # Authorization header, so the service checks it (service/web/identity.py), as for ECS.
  gallery_routes = [
    "GET /",
    "HEAD /",
    "GET /tiles",
    "HEAD /tiles",
    "GET /sign-in",
    "HEAD /sign-in",
    "POST /sign-in",
    "POST /sign-out",
    "GET /assets/{proxy+}",
    "HEAD /assets/{proxy+}",
    "GET /photos/{proxy+}",
    "HEAD /photos/{proxy+}",
    "POST /photos/{proxy+}",
    "POST /photo-uploads",
    "GET /photo-uploads/{proxy+}",
    "HEAD /photo-uploads/{proxy+}",
    "POST /photo-uploads/{proxy+}",
  ]
}

# Everything without a more specific route, writes included: a token is required.
resource "aws_apigatewayv2_route" "default" {
  api_id             = aws_apigatewayv2_api.http.id
  route_key          = "$default"
  target             = "integrations/${aws_apigatewayv2_integration.lambda.id}"
  authorization_type = "JWT"
  authorizer_id      = aws_apigatewayv2_authorizer.jwt.id
}

resource "aws_apigatewayv2_route" "public" {
  #checkov:skip=CKV_AWS_309:Health checks and the API description (OpenAPI document, Swagger UI) are public by design, as the service serves them; every other route requires a JWT.
  for_each = toset(local.public_routes)

  api_id             = aws_apigatewayv2_api.http.id
  route_key          = each.value
  target             = "integrations/${aws_apigatewayv2_integration.lambda.id}"
  authorization_type = "NONE"
}

resource "aws_apigatewayv2_route" "gallery" {
  #checkov:skip=CKV_AWS_309:The gallery's pages authenticate with a session cookie, which a JWT authorizer cannot read; the service verifies the cookie's token itself (same issuer and client) and refuses anonymous callers.
  for_each = toset(local.gallery_routes)

  api_id             = aws_apigatewayv2_api.http.id
  route_key          = each.value
  target             = "integrations/${aws_apigatewayv2_integration.lambda.id}"
  authorization_type = "NONE"
}

# CORS preflights carry no Authorization header: behind $default's authorizer they would get a
# 401. With cors_configuration API Gateway answers them itself; without it they reach the
# function, which answers OPTIONS with no CORS headers, and the browser goes no further.
resource "aws_apigatewayv2_route" "preflight" {
  #checkov:skip=CKV_AWS_309:CORS preflight requests never carry a token (browsers send them without credentials); API Gateway answers them from cors_configuration, and every other method keeps its authorizer.
  api_id             = aws_apigatewayv2_api.http.id
  route_key          = "OPTIONS /{proxy+}"
  target             = "integrations/${aws_apigatewayv2_integration.lambda.id}"
  authorization_type = "NONE"
}

resource "aws_apigatewayv2_route" "read" {
  for_each = toset(local.read_routes)

  api_id             = aws_apigatewayv2_api.http.id
  route_key          = each.value
  target             = "integrations/${aws_apigatewayv2_integration.lambda.id}"
  authorization_type = var.public_read ? "NONE" : "JWT"
  authorizer_id      = var.public_read ? null : aws_apigatewayv2_authorizer.jwt.id
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.http.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_burst_limit   = var.throttling_burst_limit
    throttling_rate_limit    = var.throttling_rate_limit
    detailed_metrics_enabled = true
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api_access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      ip                 = "$context.identity.sourceIp"
      requestTime        = "$context.requestTime"
      httpMethod         = "$context.httpMethod"
      path               = "$context.path"
      routeKey           = "$context.routeKey"
      status             = "$context.status"
      protocol           = "$context.protocol"
      responseLength     = "$context.responseLength"
      integrationLatency = "$context.integrationLatency"
      integrationError   = "$context.integrationErrorMessage"
      userAgent          = "$context.identity.userAgent"
    })
  }
}

resource "aws_lambda_permission" "api" {
  statement_id  = "AllowHttpApiInvoke"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.api.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.http.execution_arn}/*"
}

# --- Sweeper (optional): `python -m service sweep` on a schedule --------------------------

resource "aws_lambda_function" "sweeper" {
  #checkov:skip=CKV_AWS_116:The sweep is idempotent and runs on a schedule; a failed run is simply redone by the next one, so a dead-letter queue adds nothing.
  #checkov:skip=CKV_AWS_117:The function only calls public AWS endpoints (S3, DynamoDB); a VPC would add NAT gateway or endpoint cost without reducing exposure.
  #checkov:skip=CKV_AWS_173:Environment variables are encrypted at rest with the AWS managed Lambda key; a KMS CMK adds key-policy management and is not required here.
  #checkov:skip=CKV_AWS_272:Code signing is not supported for container image functions; image integrity comes from ECR (immutable tags, scan on push).
  count = local.sweeper_enabled ? 1 : 0

  function_name = local.sweeper_name
  role          = aws_iam_role.function.arn
  package_type  = "Image"
  image_uri     = var.image_uri
  architectures = [var.architecture]
  memory_size   = 512
  timeout       = 300

  # No reservation by default: Lambda refuses any that leaves less than its unreserved minimum,
  # which small accounts cannot spare. A sweep ends within its timeout, well before the next
  # scheduled one, and is idempotent should two ever overlap.
  reserved_concurrent_executions = var.sweeper_reserved_concurrency

  image_config {
    command = ["service.entrypoints.lambda_handler.sweep_handler"]
  }

  tracing_config {
    mode = var.tracing_mode
  }

  environment {
    variables = local.environment
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.sweeper[0].name
  }

  depends_on = [
    aws_iam_role_policy.runtime,
    aws_iam_role_policy.data_access,
    aws_iam_role_policy.send_jobs,
  ]
}

data "aws_iam_policy_document" "scheduler_assume_role" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  count = local.sweeper_enabled ? 1 : 0

  name                 = "${local.sweeper_name}-scheduler"
  assume_role_policy   = data.aws_iam_policy_document.scheduler_assume_role.json
  permissions_boundary = var.role_permissions_boundary
}

data "aws_iam_policy_document" "scheduler" {
  count = local.sweeper_enabled ? 1 : 0

  statement {
    sid       = "InvokeSweeper"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.sweeper[0].arn]
  }
}

resource "aws_iam_role_policy" "scheduler" {
  count = local.sweeper_enabled ? 1 : 0

  name   = "invoke-sweeper"
  role   = aws_iam_role.scheduler[0].id
  policy = data.aws_iam_policy_document.scheduler[0].json
}

resource "aws_scheduler_schedule" "sweeper" {
  #checkov:skip=CKV_AWS_297:The schedule holds no data beyond the target ARN; the AWS owned key is enough and a CMK adds key-policy management.
  count = local.sweeper_enabled ? 1 : 0

  name                = local.sweeper_name
  schedule_expression = var.sweep_schedule_expression

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.sweeper[0].arn
    role_arn = aws_iam_role.scheduler[0].arn

    retry_policy {
      maximum_retry_attempts = 0
    }
  }
}

# --- Worker: the jobs on the queue -------------------------------------------------------
# The same image, with the worker's handler as its command (as the sweeper's), invoked by an
# event source mapping with one job at a time. The handler reports a job that failed
# (ReportBatchItemFailures): it returns to the queue, and moves to the dead-letter queue after
# maxReceiveCount deliveries.

resource "aws_lambda_function" "worker" {
  #checkov:skip=CKV_AWS_116:Invoked by an SQS event source mapping, synchronously: a failed job returns to the queue and moves to its dead-letter queue after maxReceiveCount deliveries; a function DLQ (async invocations only) would never receive anything.
  #checkov:skip=CKV_AWS_117:The function only calls public AWS endpoints (S3, DynamoDB, SQS); a VPC would add NAT gateway or endpoint cost without reducing exposure.
  #checkov:skip=CKV_AWS_173:Environment variables are encrypted at rest with the AWS managed Lambda key; a KMS CMK adds key-policy management and is not required here.
  #checkov:skip=CKV_AWS_272:Code signing is not supported for container image functions; image integrity comes from ECR (immutable tags, scan on push).
  #checkov:skip=CKV_AWS_115:The event source mapping's maximum_concurrency bounds the worker's concurrency without taking executions from the account's unreserved pool, which a reservation would.
  function_name = local.worker_name
  role          = aws_iam_role.worker.arn
  package_type  = "Image"
  image_uri     = var.image_uri
  architectures = [var.architecture]
  memory_size   = var.worker_memory_size
  timeout       = var.worker_timeout

  # The worker spools an upload to /tmp while it hashes it: room for the largest one the
  # service accepts (5 GiB, one CopyObject), with Lambda's most.
  ephemeral_storage {
    size = 10240
  }

  image_config {
    command = ["service.entrypoints.lambda_worker.handler"]
  }

  tracing_config {
    mode = var.tracing_mode
  }

  environment {
    variables = local.worker_environment
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.worker.name
  }

  depends_on = [
    aws_iam_role_policy.worker_runtime,
    aws_iam_role_policy.worker_data_access,
    aws_iam_role_policy.worker_jobs,
  ]
}

resource "aws_lambda_event_source_mapping" "worker" {
  event_source_arn        = var.jobs_queue_arn
  function_name           = aws_lambda_function.worker.arn
  function_response_types = ["ReportBatchItemFailures"]

  # One job per invocation: the worker decodes one image at a time, and the jobs of a batch
  # would share one timeout, so that a slow one could cost the others a delivery (each timed
  # out job counts towards maxReceiveCount). Hence no batching window either.
  batch_size = 1

  # At most this many worker invocations at a time, however long the queue.
  scaling_config {
    maximum_concurrency = var.worker_maximum_concurrency
  }

  # Lambda polls with the function's role, and checks that it may read the queue when the
  # mapping is made.
  depends_on = [aws_iam_role_policy.worker_jobs]
}
