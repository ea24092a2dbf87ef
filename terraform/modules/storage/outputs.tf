output "bucket_name" {
  description = "Name of the image bucket (S3_BUCKET_NAME)."
  value       = aws_s3_bucket.images.bucket
}

output "bucket_arn" {
  description = "ARN of the image bucket."
  value       = aws_s3_bucket.images.arn
}

output "table_name" {
  description = "Name of the DynamoDB table (DYNAMODB_TABLE_NAME)."
  value       = aws_dynamodb_table.images.name
}

output "table_arn" {
  description = "ARN of the DynamoDB table."
  value       = aws_dynamodb_table.images.arn
}

output "service_policy_json" {
  description = "Least-privilege IAM policy (JSON) for the service's runtime role."
  value       = data.aws_iam_policy_document.service_data_access.json
}

output "worker_policy_json" {
  description = "Least-privilege IAM policy (JSON) for the worker's role: its objects and the table."
  value       = data.aws_iam_policy_document.worker_data_access.json
}
