# ARNs of what the stack in terraform/ creates, as its modules name it from name_prefix. The
# deploy roles' permissions (plan.tf, apply.tf, ecs.tf) and the boundary of the stack's own
# roles (boundary.tf) are granted on these patterns only.

locals {
  partition = data.aws_partition.current.partition
  account   = data.aws_caller_identity.current.account_id

  # The bucket ("<prefix>-images-..." or bucket_name) and the table ("<prefix>-images" or
  # table_name): a bucket_name or table_name of your own must start with "<prefix>-" too.
  # This pattern also matches the bucket's objects: grant only bucket-level actions on it.
  stack_buckets = "arn:${local.partition}:s3:::${var.name_prefix}-*"
  stack_tables  = "arn:${local.partition}:dynamodb:${var.region}:${local.account}:table/${var.name_prefix}-*"
  # The one image repository, named name_prefix.
  stack_repository = "arn:${local.partition}:ecr:${var.region}:${local.account}:repository/${var.name_prefix}"
  # Roles with the default path "/" ("<prefix>-api-lambda", "<prefix>-svc-task", ...); the
  # deploy roles' path, /github-actions/, is not matched.
  stack_roles = "arn:${local.partition}:iam::${local.account}:role/${var.name_prefix}-*"
  # The roles the modules make, by name, for iam:PassRole (which has no boundary condition),
  # grouped by the service that assumes them.
  lambda_roles = [
    "arn:${local.partition}:iam::${local.account}:role/${var.name_prefix}-api-lambda",
    "arn:${local.partition}:iam::${local.account}:role/${var.name_prefix}-api-worker",
  ]
  scheduler_roles = ["arn:${local.partition}:iam::${local.account}:role/${var.name_prefix}-api-sweeper-scheduler"]
  ecs_task_roles = [
    "arn:${local.partition}:iam::${local.account}:role/${var.name_prefix}-svc-execution",
    "arn:${local.partition}:iam::${local.account}:role/${var.name_prefix}-svc-task",
    "arn:${local.partition}:iam::${local.account}:role/${var.name_prefix}-svc-worker-task",
  ]
  stack_functions = "arn:${local.partition}:lambda:${var.region}:${local.account}:function:${var.name_prefix}-*"
  # The worker function's event source mappings: they have generated ids, so they are matched
  # by account and region, and their changes by the function they feed (lambda:FunctionArn).
  worker_function       = "arn:${local.partition}:lambda:${var.region}:${local.account}:function:${var.name_prefix}-api-worker"
  event_source_mappings = "arn:${local.partition}:lambda:${var.region}:${local.account}:event-source-mapping:*"
  # The jobs queue "<prefix>-jobs" and its dead-letter queue, and their alarms.
  stack_queues = "arn:${local.partition}:sqs:${var.region}:${local.account}:${var.name_prefix}-*"
  stack_alarms = "arn:${local.partition}:cloudwatch:${var.region}:${local.account}:alarm:${var.name_prefix}-*"
  stack_log_groups = [
    "arn:${local.partition}:logs:${var.region}:${local.account}:log-group:/aws/lambda/${var.name_prefix}-*",
    "arn:${local.partition}:logs:${var.region}:${local.account}:log-group:/aws/apigateway/${var.name_prefix}-*",
    "arn:${local.partition}:logs:${var.region}:${local.account}:log-group:/ecs/${var.name_prefix}-*",
  ]
  stack_schedules = "arn:${local.partition}:scheduler:${var.region}:${local.account}:schedule/default/${var.name_prefix}-*"

  # Generated ids, not names: user pools and HTTP APIs are matched by account and region only.
  user_pools     = "arn:${local.partition}:cognito-idp:${var.region}:${local.account}:userpool/*"
  http_apis      = "arn:${local.partition}:apigateway:${var.region}::/apis"
  http_api_parts = "arn:${local.partition}:apigateway:${var.region}::/apis/*"
  # Tags of HTTP APIs and their stages: /tags/ and the URL-encoded ARN of what is tagged.
  http_api_tags = "arn:${local.partition}:apigateway:${var.region}::/tags/arn%3A${local.partition}%3Aapigateway%3A${var.region}%3A%3A%2Fapis%2F*"

  # ECS mode: the cluster and service "<prefix>-svc", the load balancer "<prefix>-svc" and
  # its listeners, the target group named from the first 6 characters of "<prefix>-svc".
  stack_clusters         = "arn:${local.partition}:ecs:${var.region}:${local.account}:cluster/${var.name_prefix}-*"
  stack_services         = "arn:${local.partition}:ecs:${var.region}:${local.account}:service/${var.name_prefix}-*/${var.name_prefix}-*"
  stack_task_definitions = "arn:${local.partition}:ecs:${var.region}:${local.account}:task-definition/${var.name_prefix}-*:*"
  stack_load_balancers   = "arn:${local.partition}:elasticloadbalancing:${var.region}:${local.account}:loadbalancer/app/${var.name_prefix}-*/*"
  stack_listeners        = "arn:${local.partition}:elasticloadbalancing:${var.region}:${local.account}:listener/app/${var.name_prefix}-*/*/*"
  stack_target_groups    = "arn:${local.partition}:elasticloadbalancing:${var.region}:${local.account}:targetgroup/${substr("${var.name_prefix}-svc", 0, 6)}*/*"
  security_groups        = "arn:${local.partition}:ec2:${var.region}:${local.account}:security-group/*"
  security_group_rules   = "arn:${local.partition}:ec2:${var.region}:${local.account}:security-group-rule/*"
  stack_vpc              = "arn:${local.partition}:ec2:${var.region}:${local.account}:vpc/${coalesce(var.vpc_id, "none")}"
  scalable_targets       = "arn:${local.partition}:application-autoscaling:${var.region}:${local.account}:scalable-target/*"
  # The alarms of target tracking policies, which Application Auto Scaling names
  # TargetTracking-<resource id>-...; the resource id is service/<cluster>/<service>.
  target_tracking_alarms = "arn:${local.partition}:cloudwatch:${var.region}:${local.account}:alarm:TargetTracking-service/${var.name_prefix}-*"

  # Terraform state: the S3 backend with use_lockfile (a "<key>.tflock" object beside it).
  state_bucket = "arn:${local.partition}:s3:::${var.state_bucket}"
  state_object = "arn:${local.partition}:s3:::${var.state_bucket}/${local.state_key}"
  state_lock   = "arn:${local.partition}:s3:::${var.state_bucket}/${local.state_key}.tflock"
  # Saved plans, from the plan job to the apply job: they hold the state's secrets too.
  state_plans = "arn:${local.partition}:s3:::${var.state_bucket}/${local.state_key}.plans/*"
  # Each plan job writes below its own session: IAM's aws:userid is "<role id>:<session name>",
  # and the workflow names the session after its run. &{} is how the policy document writes
  # IAM's ${} variables.
  own_state_plans = "arn:${local.partition}:s3:::${var.state_bucket}/${local.state_key}.plans/&{aws:userid}/*"
}
