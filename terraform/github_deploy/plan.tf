# What terraform plan reads (the refresh of every resource the stack holds), the state with its
# lock, and the image push. Held by the plan role; the apply role holds read and state_read too.

data "aws_iam_policy_document" "read" {
  statement {
    sid = "ReadBuckets"
    # Bucket-level reads only: no object is readable (stack_buckets also matches objects).
    actions = [
      "s3:ListBucket",
      "s3:GetAccelerateConfiguration",
      "s3:GetBucketAcl",
      "s3:GetBucketCORS",
      "s3:GetBucketLocation",
      "s3:GetBucketLogging",
      "s3:GetBucketObjectLockConfiguration",
      "s3:GetBucketOwnershipControls",
      "s3:GetBucketPolicy",
      "s3:GetBucketPublicAccessBlock",
      "s3:GetBucketRequestPayment",
      "s3:GetBucketTagging",
      "s3:GetBucketVersioning",
      "s3:GetBucketWebsite",
      "s3:GetEncryptionConfiguration",
      "s3:GetLifecycleConfiguration",
      "s3:GetReplicationConfiguration",
    ]
    resources = [local.stack_buckets]
  }

  statement {
    sid = "ReadTables"
    actions = [
      "dynamodb:DescribeTable",
      "dynamodb:DescribeContinuousBackups",
      "dynamodb:DescribeTimeToLive",
      "dynamodb:ListTagsOfResource",
    ]
    resources = [local.stack_tables]
  }

  statement {
    sid = "ReadRepository"
    actions = [
      "ecr:DescribeRepositories",
      "ecr:DescribeImages",
      "ecr:GetLifecyclePolicy",
      "ecr:GetRepositoryPolicy",
      "ecr:ListTagsForResource",
    ]
    resources = [local.stack_repository]
  }

  statement {
    sid = "ReadUserPools"
    # Pool settings, clients and groups: no user is listed or read.
    actions = [
      "cognito-idp:DescribeUserPool",
      "cognito-idp:DescribeUserPoolClient",
      "cognito-idp:GetGroup",
      "cognito-idp:GetUserPoolMfaConfig",
      "cognito-idp:ListTagsForResource",
    ]
    resources = [local.user_pools]
  }

  statement {
    sid = "ReadRoles"
    actions = [
      "iam:GetRole",
      "iam:GetRolePolicy",
      "iam:ListRolePolicies",
      "iam:ListAttachedRolePolicies",
    ]
    resources = [local.stack_roles]
  }

  statement {
    sid = "ReadFunctions"
    actions = [
      "lambda:GetFunction",
      "lambda:GetFunctionCodeSigningConfig",
      "lambda:GetFunctionConcurrency",
      "lambda:GetFunctionConfiguration",
      "lambda:GetFunctionRecursionConfig",
      "lambda:GetPolicy",
      "lambda:GetRuntimeManagementConfig",
      "lambda:ListTags",
      "lambda:ListVersionsByFunction",
    ]
    resources = [local.stack_functions]
  }

  statement {
    sid       = "ReadLogGroups"
    actions   = ["logs:ListTagsForResource", "logs:ListTagsLogGroup"]
    resources = local.stack_log_groups
  }

  statement {
    sid = "ListLogGroups"
    # DescribeLogGroups has no resource-level permissions.
    actions   = ["logs:DescribeLogGroups"]
    resources = ["*"]
  }

  statement {
    sid       = "ReadHttpApis"
    actions   = ["apigateway:GET"]
    resources = [local.http_apis, local.http_api_parts]
  }

  statement {
    sid       = "ReadSchedules"
    actions   = ["scheduler:GetSchedule"]
    resources = [local.stack_schedules]
  }

  statement {
    sid = "ReadQueues"
    # Their attributes and tags: no message is received.
    actions   = ["sqs:GetQueueAttributes", "sqs:ListQueueTags"]
    resources = [local.stack_queues]
  }

  statement {
    sid       = "ReadEventSourceMappings"
    actions   = ["lambda:GetEventSourceMapping", "lambda:ListTags"]
    resources = [local.event_source_mappings]
  }

  statement {
    sid       = "ReadAlarms"
    actions   = ["cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"]
    resources = [local.stack_alarms]
  }
}

data "aws_iam_policy_document" "image_push" {
  statement {
    sid = "RegistryLogin"
    # GetAuthorizationToken has no resource-level permissions.
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid = "PushToTheStackRepository"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:CompleteLayerUpload",
      "ecr:DescribeImages",
      "ecr:GetDownloadUrlForLayer",
      "ecr:InitiateLayerUpload",
      "ecr:PutImage",
      "ecr:UploadLayerPart",
    ]
    resources = [local.stack_repository]
  }
}

data "aws_iam_policy_document" "state_read" {
  statement {
    sid       = "FindTheState"
    actions   = ["s3:ListBucket"]
    resources = [local.state_bucket]
  }

  statement {
    sid       = "ReadTheState"
    actions   = ["s3:GetObject"]
    resources = [local.state_object]
  }

  statement {
    sid = "LockTheState"
    # use_lockfile: the lock is an object created with If-None-Match and deleted on unlock.
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [local.state_lock]
  }

  statement {
    sid       = "ReadSavedPlans"
    actions   = ["s3:GetObject"]
    resources = [local.state_plans]
  }
}

data "aws_iam_policy_document" "plan_write" {
  statement {
    sid       = "SaveThePlan"
    actions   = ["s3:PutObject"]
    resources = [local.own_state_plans]
  }
}
