variable "name" {
  description = "Name of the Lambda function, its role, log groups and HTTP API."
  type        = string
}

variable "image_uri" {
  description = "Container image (ECR repository URL with tag or digest)."
  type        = string
}

variable "architecture" {
  description = "Instruction set the image was built for: x86_64 or arm64."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}

variable "memory_size" {
  description = "Lambda memory in MB (CPU scales with it; image decoding likes more)."
  type        = number
  default     = 1024
}

variable "timeout" {
  description = "Lambda timeout in seconds; an HTTP API waits at most 30 s for an integration."
  type        = number
  default     = 29

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 30
    error_message = "timeout must be between 1 and 30 seconds (HTTP API integration limit)."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions: caps cost and protects DynamoDB/S3 from bursts."
  type        = number
  default     = 50

  validation {
    condition     = var.reserved_concurrency >= 1
    error_message = "reserved_concurrency must be at least 1 (0 would disable the function)."
  }
}

variable "tracing_mode" {
  description = "X-Ray tracing mode: Active or PassThrough."
  type        = string
  default     = "Active"

  validation {
    condition     = contains(["Active", "PassThrough"], var.tracing_mode)
    error_message = "tracing_mode must be Active or PassThrough."
  }
}

variable "log_retention_days" {
  description = "Retention of the function's and the API's access log groups."
  type        = number
  default     = 365
}

variable "throttling_burst_limit" {
  description = "HTTP API default route burst limit (requests)."
  type        = number
  default     = 100
}

variable "throttling_rate_limit" {
  description = "HTTP API default route steady-state limit (requests per second)."
  type        = number
  default     = 50
}

variable "bucket_name" {
  description = "Image bucket name, passed as S3_BUCKET_NAME."
  type        = string
}

variable "table_name" {
  description = "DynamoDB table name, passed as DYNAMODB_TABLE_NAME."
  type        = string
}

variable "service_policy_json" {
  description = "Least-privilege data-access policy (from the storage module)."
  type        = string
}

variable "cursor_secret" {
  description = "Secret that signs pagination cursors (CURSOR_SECRET); shared by every instance."
  type        = string
  sensitive   = true
}

variable "max_file_size" {
  description = "MAX_FILE_SIZE in bytes."
  type        = number
}

variable "max_request_body" {
  description = "MAX_REQUEST_BODY in bytes: Lambda's 6 MB event limit leaves about 4.4 MiB of upload."
  type        = number
  default     = 4500000
}

variable "allowed_content_types" {
  description = "ALLOWED_CONTENT_TYPES (joined with commas)."
  type        = list(string)
}

variable "log_level" {
  description = "LOG_LEVEL."
  type        = string
}

variable "max_image_pixels" {
  description = "MAX_IMAGE_PIXELS."
  type        = number
}

variable "max_image_frames" {
  description = "MAX_IMAGE_FRAMES."
  type        = number
}

variable "download_url_ttl" {
  description = "DOWNLOAD_URL_TTL in seconds."
  type        = number
}

variable "sweep_grace_seconds" {
  description = "SWEEP_GRACE_SECONDS."
  type        = number
}

variable "sweep_schedule_expression" {
  description = "EventBridge Scheduler expression for the sweeper function; null disables it."
  type        = string
  default     = "rate(15 minutes)"
}
