output "url" {
  description = "Base URL of the load balancer."
  value       = "${local.https ? "https" : "http"}://${aws_lb.service.dns_name}"
}

output "alb_dns_name" {
  description = "DNS name of the load balancer (point a CNAME/alias at it)."
  value       = aws_lb.service.dns_name
}

output "cluster_name" {
  description = "Name of the ECS cluster."
  value       = aws_ecs_cluster.service.name
}

output "service_name" {
  description = "Name of the ECS service."
  value       = aws_ecs_service.service.name
}

output "task_definition_arn" {
  description = "ARN of the task definition (run `python -m service sweep` with it as a one-off task)."
  value       = aws_ecs_task_definition.service.arn
}

output "task_security_group_id" {
  description = "Security group of the tasks (reuse it for one-off RunTask calls)."
  value       = aws_security_group.tasks.id
}

output "worker_service_name" {
  description = "Name of the worker's ECS service."
  value       = aws_ecs_service.worker.name
}

output "worker_task_definition_arn" {
  description = "ARN of the worker's task definition."
  value       = aws_ecs_task_definition.worker.arn
}
