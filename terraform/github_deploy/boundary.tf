# The permissions boundary of every role the stack creates (the stack's
# role_permissions_boundary): the most those roles can ever do, whatever policy the apply role
# writes into them. It covers what the service, its worker, the Lambda runtime, the ECS task
# execution and the scheduler do, on the stack's resources only; no IAM, no STS, no other data.

data "aws_iam_policy_document" "workload_boundary" {
  statement {
    sid = "ImageData"
    actions = [
      "s3:ListBucket",
      "s3:GetObject",
      "s3:PutObject",
      "s3:DeleteObject",
      "s3:AbortMultipartUpload",
      "s3:ListMultipartUploadParts",
    ]
    resources = [local.stack_buckets]
  }

  statement {
    sid = "ImageMetadata"
    actions = [
      "dynamodb:BatchGetItem",
      "dynamodb:DeleteItem",
      "dynamodb:DescribeTable",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:Query",
      "dynamodb:UpdateItem",
    ]
    resources = [local.stack_tables]
  }

  # The API sends jobs; the worker (and Lambda's event source mapping, with its role) takes
  # them. No queue is created, purged or deleted.
  statement {
    sid = "Jobs"
    actions = [
      "sqs:GetQueueUrl",
      "sqs:GetQueueAttributes",
      "sqs:SendMessage",
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
    ]
    resources = [local.stack_queues]
  }

  statement {
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = local.stack_log_groups
  }

  statement {
    sid = "TracesAndRegistryLogin"
    # No resource-level permissions for these.
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid       = "PullTheImage"
    actions   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    resources = [local.stack_repository]
  }

  statement {
    sid       = "InvokeTheSweeper"
    actions   = ["lambda:InvokeFunction"]
    resources = [local.stack_functions]
  }
}

resource "aws_iam_policy" "workload_boundary" {
  name        = "${var.name_prefix}-workload-boundary"
  path        = local.iam_path
  description = "Permissions boundary of the roles the ${var.name_prefix} stack creates"
  policy      = data.aws_iam_policy_document.workload_boundary.json
}
