output "api_url" {
  description = "Base URL of the HTTP API."
  value       = aws_apigatewayv2_stage.default.invoke_url
}

output "function_name" {
  description = "Name of the API Lambda function."
  value       = aws_lambda_function.api.function_name
}

output "function_arn" {
  description = "ARN of the API Lambda function."
  value       = aws_lambda_function.api.arn
}

output "role_arn" {
  description = "ARN of the functions' execution role."
  value       = aws_iam_role.function.arn
}

output "sweeper_function_name" {
  description = "Name of the scheduled sweeper function (null when disabled)."
  value       = try(aws_lambda_function.sweeper[0].function_name, null)
}

output "worker_function_name" {
  description = "Name of the worker function."
  value       = aws_lambda_function.worker.function_name
}
