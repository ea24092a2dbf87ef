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
  description = "Reserved concurrent executions of the API function (caps cost and protects DynamoDB/S3 from bursts); null reserves none."
  type        = number
  default     = null

  validation {
    condition     = var.reserved_concurrency == null ? true : var.reserved_concurrency >= 1
    error_message = "reserved_concurrency must be null or at least 1 (0 would disable the function)."
  }
}

variable "sweeper_reserved_concurrency" {
  description = "Reserved concurrent executions of the sweeper function; null reserves none."
  type        = number
  default     = null

  validation {
    condition     = var.sweeper_reserved_concurrency == null ? true : var.sweeper_reserved_concurrency >= 1
    error_message = "sweeper_reserved_concurrency must be null or at least 1 (0 would disable the function)."
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

variable "service_policy_json" {
  description = "Least-privilege data-access policy (from the storage module)."
  type        = string
}

variable "max_request_body" {
  description = "MAX_REQUEST_BODY in bytes: Lambda's 6 MB event limit leaves about 4.4 MiB of upload."
  type        = number
  default     = 4500000
}

variable "sweep_schedule_expression" {
  description = "EventBridge Scheduler expression for the sweeper function; null disables it."
  type        = string
  default     = "rate(15 minutes)"
}

variable "service_environment" {
  description = "The service's settings common to every mode (root module: local.service_environment)."
  type        = map(string)
  sensitive   = true # holds CURSOR_SECRET
}

variable "jwt_issuer" {
  description = "Issuer the JWT authorizer trusts (the user pool's, as the service's AUTH_ISSUER)."
  type        = string
}

variable "jwt_audience" {
  description = "App client ids the JWT authorizer accepts (as the service's AUTH_CLIENT_IDS)."
  type        = list(string)

  validation {
    condition     = length(var.jwt_audience) >= 1
    error_message = "jwt_audience needs at least one app client id."
  }
}

variable "public_read" {
  description = "Let GET /images and GET /images/{id}[/download|/thumbnail] through without a token (the service's PUBLIC_READ)."
  type        = bool
  default     = false
}

variable "role_permissions_boundary" {
  description = "ARN of the managed policy set as the permissions boundary of every role this module creates; null sets none."
  type        = string
  default     = null
}

variable "cors_allow_origins" {
  description = "Origins (https://host, no path) of browser apps that may call the API; empty: no CORS, preflights get no CORS headers."
  type        = list(string)
  default     = []

  validation {
    condition     = !contains(var.cors_allow_origins, "*")
    error_message = "cors_allow_origins names origins; \"*\" would let any site call the API with its users' tokens."
  }
}

# --- Worker ------------------------------------------------------------------------------

variable "queue_send_policy_json" {
  description = "IAM policy of the API function's role on the jobs queue (from the jobs module)."
  type        = string
}

variable "jobs_queue_arn" {
  description = "ARN of the jobs queue, the worker function's event source."
  type        = string
}

variable "queue_consume_policy_json" {
  description = "IAM policy of the worker function's role on the jobs queue (from the jobs module)."
  type        = string
}

variable "worker_policy_json" {
  description = "Least-privilege data-access policy of the worker (from the storage module)."
  type        = string
}

variable "worker_environment" {
  description = "The worker's own settings (root module: local.worker_environment), added to the common ones."
  type        = map(string)
}

variable "worker_memory_size" {
  description = "Worker function memory in MB; its decode budget (WORKER_MAX_DECODED_BYTES) is sized from it."
  type        = number
  default     = 2048

  validation {
    condition     = var.worker_memory_size >= 128 && var.worker_memory_size <= 10240
    error_message = "worker_memory_size must be between 128 and 10240 MB."
  }
}

variable "worker_timeout" {
  description = "Worker function timeout in seconds (the job time limit); the queue's visibility timeout is six times it."
  type        = number
  default     = 300

  validation {
    condition     = var.worker_timeout >= 1 && var.worker_timeout <= 900
    error_message = "worker_timeout must be between 1 and 900 seconds (Lambda's limit)."
  }
}

variable "worker_maximum_concurrency" {
  description = "Most worker invocations at a time (the event source mapping's maximum_concurrency)."
  type        = number
  default     = 5

  validation {
    condition     = var.worker_maximum_concurrency >= 2 && var.worker_maximum_concurrency <= 1000
    error_message = "worker_maximum_concurrency must be between 2 and 1000 (Lambda's bounds)."
  }
}
