# The worker's job queue: the API sends one message per finished upload (POST
# /uploads/{id}/complete) and per new image (POST /images), the worker (Lambda or ECS) takes
# them off. A job that fails maxReceiveCount times moves to the dead-letter queue, which
# `python -m service dead-letters` lists, and an alarm says so.

locals {
  dead_letters_name = "${var.name}-dead-letters"

  # AWS's advice for a queue a Lambda function reads: a visibility timeout of at least six
  # times the function's timeout, so that a batch Lambda retries after throttling or a
  # timeout is not received again while it still runs. The ECS worker's stop timeout follows
  # the same limit.
  visibility_timeout_seconds = 6 * var.worker_time_limit_seconds

  # A message keeps its first enqueue time when it moves to the dead-letter queue, and its
  # retention counts from there: the dead-letter queue keeps messages longer than the jobs
  # queue, or a dead letter could expire almost as soon as it arrives.
  jobs_retention_seconds         = 4 * 24 * 3600
  dead_letters_retention_seconds = 14 * 24 * 3600

  alarm_actions = var.alarm_topic_arn == null ? [] : [var.alarm_topic_arn]
}

# --- Queues ------------------------------------------------------------------------------
# Encrypted at rest with SQS's own keys (SSE-SQS): no key policy to keep, and the roles that
# send and receive need no KMS permission.

resource "aws_sqs_queue" "jobs" {
  name                       = var.name
  visibility_timeout_seconds = local.visibility_timeout_seconds
  message_retention_seconds  = local.jobs_retention_seconds
  receive_wait_time_seconds  = 20
  sqs_managed_sse_enabled    = true

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letters.arn
    maxReceiveCount     = var.max_receive_count
  })
}

resource "aws_sqs_queue" "dead_letters" {
  name                      = local.dead_letters_name
  message_retention_seconds = local.dead_letters_retention_seconds
  sqs_managed_sse_enabled   = true
}

# Only the jobs queue may use the dead-letter queue (and so be the target of a redrive back
# from it). A resource of its own: the jobs queue's redrive policy names the dead-letter
# queue, which could not name the jobs queue in return without a cycle.
resource "aws_sqs_queue_redrive_allow_policy" "dead_letters" {
  queue_url = aws_sqs_queue.dead_letters.id

  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.jobs.arn]
  })
}

# --- Alarms ------------------------------------------------------------------------------
# SQS publishes its metrics every minute while a queue is active (it holds messages or is
# called); a quiet queue publishes none, which is not a breach.

resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  alarm_name        = "${local.dead_letters_name}-visible"
  alarm_description = "Jobs failed ${var.max_receive_count} times and wait in ${local.dead_letters_name}: list them with `python -m service dead-letters` (docs/deploy.md)."
  namespace         = "AWS/SQS"
  metric_name       = "ApproximateNumberOfMessagesVisible"
  dimensions = {
    QueueName = aws_sqs_queue.dead_letters.name
  }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "oldest_job" {
  alarm_name        = "${var.name}-oldest-message-age"
  alarm_description = "A job has waited more than ${var.oldest_message_alarm_seconds} s in ${var.name}: the worker is down, failing or too slow for the load."
  namespace         = "AWS/SQS"
  metric_name       = "ApproximateAgeOfOldestMessage"
  dimensions = {
    QueueName = aws_sqs_queue.jobs.name
  }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.oldest_message_alarm_seconds
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# --- Who may do what with the jobs queue --------------------------------------------------
# The API (and the sweeper, which shares its role) finds the queue by name and sends; the
# worker finds it, reads its redrive policy (maxReceiveCount: whether a delivery is the last
# one) and receives and deletes: a failed job is left to come back when its visibility
# timeout ends. Lambda's event source mapping polls with the worker function's role:
# ReceiveMessage, DeleteMessage and GetQueueAttributes, all among these.
# Neither touches the dead-letter queue: listing it is an operator's job.

data "aws_iam_policy_document" "send" {
  statement {
    sid       = "SendJobs"
    actions   = ["sqs:GetQueueUrl", "sqs:SendMessage"]
    resources = [aws_sqs_queue.jobs.arn]
  }
}

data "aws_iam_policy_document" "consume" {
  statement {
    sid = "ConsumeJobs"
    actions = [
      "sqs:GetQueueUrl",
      "sqs:GetQueueAttributes",
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
    ]
    resources = [aws_sqs_queue.jobs.arn]
  }
}
