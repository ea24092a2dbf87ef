# What terraform apply changes: the resources the stack creates, by their names. Held by the
# apply role only. Nothing here deletes the bucket, the table, the user pool, the image
# repository or the jobs queues, or reads or writes an image, a metadata item or a job:
# destroying the stack stays an administrator's job (docs/deploy.md).

data "aws_iam_policy_document" "write" {
  statement {
    sid = "ConfigureBuckets"
    # Bucket-level actions only (stack_buckets also matches objects).
    actions = [
      "s3:CreateBucket",
      "s3:PutBucketCORS",
      "s3:PutBucketOwnershipControls",
      "s3:PutBucketPolicy",
      "s3:PutBucketPublicAccessBlock",
      "s3:PutBucketTagging",
      "s3:PutBucketVersioning",
      "s3:PutEncryptionConfiguration",
      "s3:PutLifecycleConfiguration",
    ]
    resources = [local.stack_buckets]
  }

  statement {
    sid = "ConfigureTables"
    actions = [
      "dynamodb:CreateTable",
      "dynamodb:UpdateTable",
      "dynamodb:UpdateContinuousBackups",
      "dynamodb:UpdateTimeToLive",
      "dynamodb:TagResource",
      "dynamodb:UntagResource",
    ]
    resources = [local.stack_tables]
  }

  statement {
    sid = "ConfigureRepository"
    # Lambda adds its own pull permission to the repository policy when it creates a function
    # from an image there, with the caller's Get/SetRepositoryPolicy.
    actions = [
      "ecr:CreateRepository",
      "ecr:PutImageScanningConfiguration",
      "ecr:PutImageTagMutability",
      "ecr:PutLifecyclePolicy",
      "ecr:TagResource",
      "ecr:UntagResource",
      "ecr:GetRepositoryPolicy",
      "ecr:SetRepositoryPolicy",
      "ecr:BatchGetImage",
      "ecr:GetDownloadUrlForLayer",
    ]
    resources = [local.stack_repository]
  }

  statement {
    sid = "CreateUserPools"
    # CreateUserPool has no resource-level permissions (the pool's id is generated).
    actions   = ["cognito-idp:CreateUserPool"]
    resources = ["*"]
  }

  statement {
    sid = "ConfigureUserPools"
    # Settings, the app client and the admins group; never users or their passwords.
    actions = [
      "cognito-idp:UpdateUserPool",
      "cognito-idp:SetUserPoolMfaConfig",
      "cognito-idp:CreateUserPoolClient",
      "cognito-idp:UpdateUserPoolClient",
      "cognito-idp:DeleteUserPoolClient",
      "cognito-idp:CreateGroup",
      "cognito-idp:UpdateGroup",
      "cognito-idp:DeleteGroup",
      "cognito-idp:TagResource",
      "cognito-idp:UntagResource",
    ]
    resources = [local.user_pools]
  }

  statement {
    sid = "ManageRolesWithinTheBoundary"
    # The stack's roles, and only with the workload boundary: whatever policy the apply role
    # writes into them, they can do no more than the boundary allows (boundary.tf).
    actions = [
      "iam:CreateRole",
      "iam:DeleteRole",
      "iam:PutRolePolicy",
      "iam:DeleteRolePolicy",
      "iam:UpdateAssumeRolePolicy",
      "iam:PutRolePermissionsBoundary",
    ]
    resources = [local.stack_roles]

    condition {
      test     = "StringEquals"
      variable = "iam:PermissionsBoundary"
      values   = [aws_iam_policy.workload_boundary.arn]
    }
  }

  statement {
    sid = "TagAndDescribeRoles"
    actions = [
      "iam:TagRole",
      "iam:UntagRole",
      "iam:UpdateRole",
      "iam:UpdateRoleDescription",
      "iam:ListInstanceProfilesForRole",
    ]
    resources = [local.stack_roles]
  }

  # PassRole has no permissions-boundary condition: it names the stack's roles exactly (which
  # the statement above lets exist only with the boundary), each for the service that
  # assumes it. The ECS roles are passed in ecs.tf.
  statement {
    sid       = "PassTheFunctionRoleToLambda"
    actions   = ["iam:PassRole"]
    resources = local.lambda_roles

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["lambda.amazonaws.com"]
    }
  }

  statement {
    sid       = "PassTheSchedulerRoleToScheduler"
    actions   = ["iam:PassRole"]
    resources = local.scheduler_roles

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["scheduler.amazonaws.com"]
    }
  }

  statement {
    sid = "DeployFunctions"
    actions = [
      "lambda:CreateFunction",
      "lambda:UpdateFunctionCode",
      "lambda:UpdateFunctionConfiguration",
      "lambda:DeleteFunction",
      "lambda:PutFunctionConcurrency",
      "lambda:DeleteFunctionConcurrency",
      "lambda:AddPermission",
      "lambda:RemovePermission",
      "lambda:TagResource",
      "lambda:UntagResource",
    ]
    resources = [local.stack_functions]
  }

  statement {
    sid = "ConfigureLogGroups"
    actions = [
      "logs:CreateLogGroup",
      "logs:DeleteLogGroup",
      "logs:PutRetentionPolicy",
      "logs:TagResource",
      "logs:UntagResource",
      "logs:TagLogGroup",
      "logs:UntagLogGroup",
    ]
    resources = local.stack_log_groups
  }

  statement {
    sid = "DeliverHttpApiAccessLogs"
    # What API Gateway asks of whoever turns on an HTTP API stage's access logs (vended log
    # delivery); none of these has resource-level permissions.
    actions = [
      "logs:CreateLogDelivery",
      "logs:GetLogDelivery",
      "logs:UpdateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:DescribeResourcePolicies",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "CreateHttpApis"
    actions   = ["apigateway:POST"]
    resources = [local.http_apis]
  }

  statement {
    sid = "ConfigureHttpApis"
    # An API's routes, integrations, authorizer and stage are paths below its own.
    actions   = ["apigateway:GET", "apigateway:POST", "apigateway:PUT", "apigateway:PATCH", "apigateway:DELETE"]
    resources = [local.http_api_parts]
  }

  statement {
    sid = "TagHttpApis"
    # Tags of an API or its stage (default_tags, var.tags) change through API Gateway's tags
    # resource, not the API's own path.
    actions   = ["apigateway:POST", "apigateway:DELETE"]
    resources = [local.http_api_tags]
  }

  statement {
    sid       = "ConfigureSchedules"
    actions   = ["scheduler:CreateSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule"]
    resources = [local.stack_schedules]
  }
}

# The worker's side (separate from "write" for IAM's size limit of a managed policy): the jobs
# queue and its dead-letter queue, the event source mapping that feeds the worker function, and
# the queues' alarms.
data "aws_iam_policy_document" "write_jobs" {
  statement {
    sid = "ConfigureQueues"
    # The jobs queue and its dead-letter queue: not DeleteQueue, they hold jobs and dead letters.
    actions   = ["sqs:CreateQueue", "sqs:SetQueueAttributes", "sqs:TagQueue", "sqs:UntagQueue"]
    resources = [local.stack_queues]
  }

  statement {
    sid = "FeedTheWorker"
    # CreateEventSourceMapping has no resource-level permissions; the function it feeds is
    # its condition, as for the mapping's later changes.
    actions   = ["lambda:CreateEventSourceMapping"]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "lambda:FunctionArn"
      values   = [local.worker_function]
    }
  }

  statement {
    sid       = "ConfigureTheWorkersFeed"
    actions   = ["lambda:UpdateEventSourceMapping", "lambda:DeleteEventSourceMapping"]
    resources = [local.event_source_mappings]

    condition {
      test     = "StringEquals"
      variable = "lambda:FunctionArn"
      values   = [local.worker_function]
    }
  }

  statement {
    sid       = "TagEventSourceMappings"
    actions   = ["lambda:TagResource", "lambda:UntagResource"]
    resources = [local.event_source_mappings]
  }

  statement {
    sid = "ConfigureQueueAlarms"
    actions = [
      "cloudwatch:PutMetricAlarm",
      "cloudwatch:DeleteAlarms",
      "cloudwatch:TagResource",
      "cloudwatch:UntagResource",
    ]
    resources = [local.stack_alarms]
  }
}

data "aws_iam_policy_document" "state_write" {
  statement {
    sid       = "WriteTheState"
    actions   = ["s3:PutObject"]
    resources = [local.state_object]
  }
}
