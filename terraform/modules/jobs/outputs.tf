output "queue_name" {
  description = "Name of the jobs queue (JOBS_QUEUE_NAME)."
  value       = aws_sqs_queue.jobs.name
}

output "queue_url" {
  description = "URL of the jobs queue."
  value       = aws_sqs_queue.jobs.url
}

output "queue_arn" {
  description = "ARN of the jobs queue (the Lambda worker's event source)."
  value       = aws_sqs_queue.jobs.arn
}

output "dead_letter_queue_name" {
  description = "Name of the dead-letter queue."
  value       = aws_sqs_queue.dead_letters.name
}

output "dead_letter_queue_url" {
  description = "URL of the dead-letter queue."
  value       = aws_sqs_queue.dead_letters.url
}

output "send_policy_json" {
  description = "IAM policy (JSON) of the API's role: find the jobs queue and send to it."
  value       = data.aws_iam_policy_document.send.json
}

output "consume_policy_json" {
  description = "IAM policy (JSON) of the worker's role: find, receive and delete jobs."
  value       = data.aws_iam_policy_document.consume.json
}
