# ECS mode: the same image on Fargate, running gunicorn on port 8000 behind an application
# load balancer. Tasks run in private subnets without public IPs and with a read-only root
# filesystem (only /tmp is writable).

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  container_name = "app"
  https          = var.certificate_arn != null

  # The service's settings (service/settings.py): the common ones from the root module, plus
  # the region and gunicorn's. The local-only AWS_ENDPOINT_URL / S3_PUBLIC_ENDPOINT_URL are
  # not set.
  own_environment = {
    AWS_DEFAULT_REGION    = data.aws_region.current.region
    PORT                  = tostring(var.container_port)
    GUNICORN_WORKERS      = tostring(var.gunicorn_workers)
    GUNICORN_THREADS      = tostring(var.gunicorn_threads)
    GUNICORN_WORKER_CLASS = var.gunicorn_worker_class
  }
  environment = merge(var.service_environment, local.own_environment)

  # The worker: the same image running `python -m service worker`, with the common settings,
  # the region and its own (no gunicorn, no port).
  worker_name      = "${var.name}-worker"
  worker_container = "worker"
  worker_own_environment = {
    AWS_DEFAULT_REGION = data.aws_region.current.region
  }
  worker_environment = merge(var.service_environment, local.worker_own_environment, var.worker_environment)
  # On SIGTERM (a deployment, a scale-in) the worker takes no new job and finishes the one it
  # runs; ECS kills it stop_timeout seconds later, and Fargate allows 120 at most. A job cut
  # short returns to the queue when its visibility timeout ends and runs again.
  fargate_max_stop_timeout = 120
  worker_stop_timeout      = min(local.fargate_max_stop_timeout, var.worker_time_limit_seconds + 10)
}

# --- Logs --------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "service" {
  #checkov:skip=CKV_AWS_158:Log groups are encrypted by CloudWatch Logs by default; a KMS CMK adds key-policy management and is not required here.
  name              = "/ecs/${var.name}"
  retention_in_days = var.log_retention_days
}

resource "aws_cloudwatch_log_group" "worker" {
  #checkov:skip=CKV_AWS_158:Log groups are encrypted by CloudWatch Logs by default; a KMS CMK adds key-policy management and is not required here.
  name              = "/ecs/${local.worker_name}"
  retention_in_days = var.log_retention_days
}

# --- IAM ---------------------------------------------------------------------------------

data "aws_iam_policy_document" "assume_role" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

# Used by the ECS agent, for the service's tasks and the worker's: pull the image, ship the
# logs.
resource "aws_iam_role" "execution" {
  name                 = "${var.name}-execution"
  assume_role_policy   = data.aws_iam_policy_document.assume_role.json
  permissions_boundary = var.role_permissions_boundary
}

data "aws_iam_policy_document" "execution" {
  # GetAuthorizationToken does not support resource-level permissions.
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid = "EcrPull"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:GetDownloadUrlForLayer",
    ]
    resources = [var.ecr_repository_arn]
  }

  statement {
    sid     = "WriteLogs"
    actions = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [
      "${aws_cloudwatch_log_group.service.arn}:*",
      "${aws_cloudwatch_log_group.worker.arn}:*",
    ]
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "pull-image-and-write-logs"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

# Used by the application: the same least privilege as the Lambda function.
resource "aws_iam_role" "task" {
  name                 = "${var.name}-task"
  assume_role_policy   = data.aws_iam_policy_document.assume_role.json
  permissions_boundary = var.role_permissions_boundary
}

resource "aws_iam_role_policy" "task_data_access" {
  name   = "image-data-access"
  role   = aws_iam_role.task.id
  policy = var.service_policy_json
}

resource "aws_iam_role_policy" "task_send_jobs" {
  name   = "send-jobs"
  role   = aws_iam_role.task.id
  policy = var.queue_send_policy_json
}

# Used by the worker: its objects and the table (not the API's), and the jobs queue.
resource "aws_iam_role" "worker_task" {
  name                 = "${local.worker_name}-task"
  assume_role_policy   = data.aws_iam_policy_document.assume_role.json
  permissions_boundary = var.role_permissions_boundary
}

resource "aws_iam_role_policy" "worker_data_access" {
  name   = "worker-data-access"
  role   = aws_iam_role.worker_task.id
  policy = var.worker_policy_json
}

resource "aws_iam_role_policy" "worker_jobs" {
  name   = "consume-jobs"
  role   = aws_iam_role.worker_task.id
  policy = var.queue_consume_policy_json
}

# --- Networking --------------------------------------------------------------------------

resource "aws_security_group" "alb" {
  name        = "${var.name}-alb"
  description = "Load balancer of ${var.name}: HTTP(S) in, gunicorn out"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "alb_http" {
  #checkov:skip=CKV_AWS_260:The load balancer is the public entry point; port 80 only redirects to HTTPS when a certificate is configured. Narrow ingress_cidr_blocks to restrict it.
  for_each = toset(var.ingress_cidr_blocks)

  security_group_id = aws_security_group.alb.id
  description       = "HTTP from allowed clients"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
}

resource "aws_vpc_security_group_ingress_rule" "alb_https" {
  for_each = local.https ? toset(var.ingress_cidr_blocks) : toset([])

  security_group_id = aws_security_group.alb.id
  description       = "HTTPS from allowed clients"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "alb_to_tasks" {
  security_group_id            = aws_security_group.alb.id
  description                  = "To the gunicorn port of the tasks"
  referenced_security_group_id = aws_security_group.tasks.id
  ip_protocol                  = "tcp"
  from_port                    = var.container_port
  to_port                      = var.container_port
}

resource "aws_security_group" "tasks" {
  name        = "${var.name}-tasks"
  description = "Tasks of ${var.name}: gunicorn from the load balancer, HTTPS to AWS APIs"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "tasks_from_alb" {
  security_group_id            = aws_security_group.tasks.id
  description                  = "gunicorn from the load balancer"
  referenced_security_group_id = aws_security_group.alb.id
  ip_protocol                  = "tcp"
  from_port                    = var.container_port
  to_port                      = var.container_port
}

resource "aws_vpc_security_group_egress_rule" "tasks_https" {
  security_group_id = aws_security_group.tasks.id
  description       = "HTTPS to AWS APIs (S3, DynamoDB, ECR, CloudWatch Logs) and the Cognito JWKS"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

# The worker's tasks take no connection: HTTPS out to AWS APIs only.
resource "aws_security_group" "worker" {
  name        = local.worker_name
  description = "Worker tasks of ${var.name}: no inbound, HTTPS to AWS APIs"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_egress_rule" "worker_https" {
  security_group_id = aws_security_group.worker.id
  description       = "HTTPS to AWS APIs (S3, DynamoDB, SQS, ECR, CloudWatch Logs)"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

# --- Load balancer -----------------------------------------------------------------------

resource "aws_lb" "service" {
  #checkov:skip=CKV_AWS_91:ALB access logs need a dedicated S3 bucket with an ELB delivery policy; request logs are written by the service to CloudWatch instead.
  #checkov:skip=CKV2_AWS_20:Port 80 redirects to HTTPS whenever certificate_arn is set (aws_lb_listener.http_redirect); the plain-HTTP forward listener exists only for deployments without a certificate.
  #checkov:skip=CKV2_AWS_28:A WAF web ACL (managed rule groups) is a cost and policy decision left to the operator; attach one with aws_wafv2_web_acl_association if needed.
  name                       = substr(var.name, 0, 32)
  load_balancer_type         = "application"
  internal                   = false
  security_groups            = [aws_security_group.alb.id]
  subnets                    = var.public_subnet_ids
  drop_invalid_header_fields = true
  desync_mitigation_mode     = "defensive"
  enable_deletion_protection = var.deletion_protection
  # Below gunicorn's keepalive (service/gunicorn_conf.py), or the ALB may reuse a connection the
  # task is closing and answer 502.
  idle_timeout = 60
}

resource "aws_lb_target_group" "service" {
  #checkov:skip=CKV_AWS_378:TLS terminates at the load balancer; the hop to the tasks stays inside the VPC between security groups.
  # A generated name (at most 6 characters of prefix) and create_before_destroy: a replacement
  # (new port, protocol, ...) creates the new group while the listener still uses the old one.
  name_prefix          = substr(var.name, 0, 6)
  port                 = var.container_port
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = var.vpc_id
  deregistration_delay = 30

  health_check {
    enabled             = true
    path                = "/health"
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_lb_listener" "https" {
  count = local.https ? 1 : 0

  load_balancer_arn = aws_lb.service.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.service.arn
  }
}

resource "aws_lb_listener" "http_redirect" {
  count = local.https ? 1 : 0

  load_balancer_arn = aws_lb.service.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"

    redirect {
      port        = "443"
      protocol    = "HTTPS"
      status_code = "HTTP_301"
    }
  }
}

resource "aws_lb_listener" "http_forward" {
  #checkov:skip=CKV_AWS_2:Only created when no certificate_arn is given (test deployments without a domain); with a certificate, port 80 redirects to HTTPS instead.
  #checkov:skip=CKV_AWS_103:Only created when no certificate_arn is given (plain HTTP, no TLS to configure); with a certificate the HTTPS listener uses TLS 1.2+.
  count = local.https ? 0 : 1

  load_balancer_arn = aws_lb.service.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.service.arn
  }
}

# --- ECS ---------------------------------------------------------------------------------

resource "aws_ecs_cluster" "service" {
  name = var.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_ecs_task_definition" "service" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.architecture
  }

  # Task-local scratch space, mounted on /tmp: the root filesystem is read-only. Fargate fills
  # it from the image's /tmp (mode 1777) because the image declares VOLUME ["/tmp"]; without
  # that it would be an empty directory owned by root, and gunicorn (uid 10001) could not start.
  volume {
    name = "tmp"
  }

  container_definitions = jsonencode([
    {
      name                   = local.container_name
      image                  = var.image_uri
      essential              = true
      readonlyRootFilesystem = true
      portMappings = [
        {
          containerPort = var.container_port
          protocol      = "tcp"
        }
      ]
      environment = [for name, value in local.environment : { name = name, value = value }]
      mountPoints = [
        {
          sourceVolume  = "tmp"
          containerPath = "/tmp"
          readOnly      = false
        }
      ]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.service.name
          awslogs-region        = data.aws_region.current.region
          awslogs-stream-prefix = "app"
        }
      }
      linuxParameters = {
        initProcessEnabled = true
      }
      stopTimeout = 30
    }
  ])
}

resource "aws_ecs_service" "service" {
  name                              = var.name
  cluster                           = aws_ecs_cluster.service.id
  task_definition                   = aws_ecs_task_definition.service.arn
  desired_count                     = var.desired_count
  launch_type                       = "FARGATE"
  platform_version                  = "LATEST"
  health_check_grace_period_seconds = 30
  propagate_tags                    = "SERVICE"
  enable_ecs_managed_tags           = true

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.service.arn
    container_name   = local.container_name
    container_port   = var.container_port
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  # The autoscaler owns the task count after the first apply.
  lifecycle {
    ignore_changes = [desired_count]
  }

  depends_on = [
    aws_lb_listener.https,
    aws_lb_listener.http_forward,
    aws_iam_role_policy.execution,
    aws_iam_role_policy.task_data_access,
    aws_iam_role_policy.task_send_jobs,
  ]
}

# --- Worker ------------------------------------------------------------------------------
# The jobs on the queue, taken one at a time by each task: no port, no load balancer. The task
# role is the worker's own; the execution role is the service's (pull the image, ship logs).

resource "aws_ecs_task_definition" "worker" {
  family                   = local.worker_name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.worker_cpu
  memory                   = var.worker_memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.worker_task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.architecture
  }

  # The worker spools an upload to /tmp while it hashes it: the task's storage holds the
  # /tmp volume, with room for the largest upload the service accepts (5 GiB).
  ephemeral_storage {
    size_in_gib = var.worker_ephemeral_storage_gib
  }

  volume {
    name = "tmp"
  }

  container_definitions = jsonencode([
    {
      name                   = local.worker_container
      image                  = var.image_uri
      essential              = true
      readonlyRootFilesystem = true
      command                = ["python", "-m", "service", "worker"]
      environment            = [for name, value in local.worker_environment : { name = name, value = value }]
      mountPoints = [
        {
          sourceVolume  = "tmp"
          containerPath = "/tmp"
          readOnly      = false
        }
      ]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.worker.name
          awslogs-region        = data.aws_region.current.region
          awslogs-stream-prefix = "worker"
        }
      }
      linuxParameters = {
        initProcessEnabled = true
      }
      stopTimeout = local.worker_stop_timeout
    }
  ])
}

resource "aws_ecs_service" "worker" {
  name                    = local.worker_name
  cluster                 = aws_ecs_cluster.service.id
  task_definition         = aws_ecs_task_definition.worker.arn
  desired_count           = var.worker_desired_count
  launch_type             = "FARGATE"
  platform_version        = "LATEST"
  propagate_tags          = "SERVICE"
  enable_ecs_managed_tags = true

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.worker.id]
    assign_public_ip = false
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  depends_on = [
    aws_iam_role_policy.execution,
    aws_iam_role_policy.worker_data_access,
    aws_iam_role_policy.worker_jobs,
  ]
}

# --- Autoscaling -------------------------------------------------------------------------

resource "aws_appautoscaling_target" "service" {
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.service.name}/${aws_ecs_service.service.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.min_capacity
  max_capacity       = var.max_capacity
}

resource "aws_appautoscaling_policy" "cpu" {
  name               = "${var.name}-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.service.service_namespace
  resource_id        = aws_appautoscaling_target.service.resource_id
  scalable_dimension = aws_appautoscaling_target.service.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.cpu_target_percent
    scale_in_cooldown  = 120
    scale_out_cooldown = 60

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

resource "aws_appautoscaling_policy" "requests" {
  count = var.requests_per_target == null ? 0 : 1

  name               = "${var.name}-requests"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.service.service_namespace
  resource_id        = aws_appautoscaling_target.service.resource_id
  scalable_dimension = aws_appautoscaling_target.service.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.requests_per_target
    scale_in_cooldown  = 120
    scale_out_cooldown = 60

    predefined_metric_specification {
      predefined_metric_type = "ALBRequestCountPerTarget"
      resource_label         = "${aws_lb.service.arn_suffix}/${aws_lb_target_group.service.arn_suffix}"
    }
  }
}
