output "bucket_name" {
  description = "S3 bucket holding the images."
  value       = module.storage.bucket_name
}

output "table_name" {
  description = "DynamoDB table holding the metadata."
  value       = module.storage.table_name
}

output "ecr_repository_url" {
  description = "Push the image here (docker tag/push <url>:<image_tag>)."
  value       = try(aws_ecr_repository.service[0].repository_url, null)
}

output "user_pool_id" {
  description = "Cognito user pool of the service's users (aws cognito-idp admin-create-user --user-pool-id ...)."
  value       = try(module.auth[0].user_pool_id, null)
}

output "user_pool_client_id" {
  description = "Public app client to sign in with (aws cognito-idp initiate-auth --client-id ...); AUTH_CLIENT_IDS."
  value       = try(module.auth[0].client_id, null)
}

output "auth_issuer" {
  description = "Issuer of the tokens the service and the HTTP API accept (AUTH_ISSUER)."
  value       = try(module.auth[0].issuer, null)
}

output "jobs_queue_name" {
  description = "The worker's jobs queue (JOBS_QUEUE_NAME)."
  value       = try(module.jobs[0].queue_name, null)
}

output "jobs_queue_url" {
  description = "URL of the jobs queue."
  value       = try(module.jobs[0].queue_url, null)
}

output "dead_letter_queue_name" {
  description = "Jobs that failed jobs_max_receive_count times (python -m service dead-letters lists them)."
  value       = try(module.jobs[0].dead_letter_queue_name, null)
}

output "dead_letter_queue_url" {
  description = "URL of the dead-letter queue."
  value       = try(module.jobs[0].dead_letter_queue_url, null)
}

output "api_url" {
  description = "Lambda mode: base URL of the HTTP API."
  value       = try(module.lambda_api[0].api_url, null)
}

output "lambda_function_name" {
  description = "Lambda mode: name of the API function."
  value       = try(module.lambda_api[0].function_name, null)
}

output "sweeper_function_name" {
  description = "Lambda mode: name of the scheduled sweeper function."
  value       = try(module.lambda_api[0].sweeper_function_name, null)
}

output "worker_function_name" {
  description = "Lambda mode: name of the worker function."
  value       = try(module.lambda_api[0].worker_function_name, null)
}

output "alb_url" {
  description = "ECS mode: the load balancer's own URL (with a certificate, clients use ecs_url)."
  value       = try(module.ecs_service[0].url, null)
}

output "ecs_url" {
  description = "ECS mode: the URL clients use (and the deploy pipeline smoke-tests): ecs_public_url, or without a certificate the load balancer's own http:// URL."
  value       = var.enable_ecs ? coalesce(var.ecs_public_url, one(module.ecs_service[*].url)) : null
}

output "ecs_cluster_name" {
  description = "ECS mode: cluster name."
  value       = try(module.ecs_service[0].cluster_name, null)
}

output "ecs_service_name" {
  description = "ECS mode: service name."
  value       = try(module.ecs_service[0].service_name, null)
}

output "ecs_task_definition_arn" {
  description = "ECS mode: task definition (also runs `python -m service sweep` as a one-off task)."
  value       = try(module.ecs_service[0].task_definition_arn, null)
}

output "ecs_worker_service_name" {
  description = "ECS mode: the worker's service name."
  value       = try(module.ecs_service[0].worker_service_name, null)
}

output "region" {
  description = "Region the stack is deployed in."
  value       = var.region
}
