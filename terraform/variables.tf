# --- Where and what ----------------------------------------------------------------------

variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "us-east-1"
}

variable "name_prefix" {
  description = "Prefix of every resource name."
  type        = string
  default     = "mpycloud"

  # The ECR repository takes the prefix as its name (no trailing or doubled hyphen), and the
  # names built from it must not start with sg- (security groups) or internal- (load balancer).
  validation {
    condition     = can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", var.name_prefix)) && length(var.name_prefix) >= 2 && length(var.name_prefix) <= 21
    error_message = "name_prefix must be 2-21 lowercase letters and digits, starting with a letter, with single hyphens between them."
  }

  validation {
    condition     = !startswith("${var.name_prefix}-", "sg-") && !startswith("${var.name_prefix}-", "internal-")
    error_message = "name_prefix must not be or start with \"sg-\" or \"internal-\" (invalid security group and load balancer names)."
  }
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}

variable "enable_lambda" {
  description = "Deploy Lambda mode: the image as a Lambda function behind an HTTP API."
  type        = bool
  default     = true
}

variable "enable_ecs" {
  description = "Deploy ECS mode: the image on Fargate behind an application load balancer."
  type        = bool
  default     = false
}

variable "image_tag" {
  description = "Tag of the image in the ECR repository: release-<something>, a new one per build (tags are immutable)."
  type        = string
  default     = null

  validation {
    condition     = var.image_tag != null || !(var.enable_lambda || var.enable_ecs)
    error_message = "image_tag is required when enable_lambda or enable_ecs is true."
  }

  # The ECR lifecycle policy never expires release- tags (main.tf), so the running image stays.
  validation {
    condition     = var.image_tag == null ? true : startswith(var.image_tag, "release-")
    error_message = "image_tag must start with \"release-\": the ECR lifecycle policy keeps those images."
  }
}

variable "image_architecture" {
  description = "Architecture the image was built for: x86_64 or arm64."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.image_architecture)
    error_message = "image_architecture must be x86_64 or arm64."
  }
}

variable "role_permissions_boundary" {
  description = "ARN of a managed policy set as the permissions boundary of every IAM role the stack creates; null sets none. The deploy pipeline's apply role may create roles only with the boundary terraform/github_deploy makes (docs/deploy.md)."
  type        = string
  default     = null
}

variable "ecr_force_delete" {
  description = "Allow terraform destroy to delete the ECR repository with its images (keep false in production)."
  type        = bool
  default     = false
}

# --- Storage -----------------------------------------------------------------------------

variable "bucket_name" {
  description = "Exact S3 bucket name; null generates a unique name from name_prefix."
  type        = string
  default     = null
}

variable "table_name" {
  description = "DynamoDB table name; null uses \"<name_prefix>-images\"."
  type        = string
  default     = null
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which overwritten/deleted object versions are removed for good."
  type        = number
  default     = 30
}

variable "bucket_force_destroy" {
  description = "Allow terraform destroy to empty and delete the bucket (keep false in production)."
  type        = bool
  default     = false
}

variable "table_deletion_protection" {
  description = "DynamoDB deletion protection (set false and apply before terraform destroy)."
  type        = bool
  default     = true
}

# --- Service settings (environment variables the service reads) --------------------------

variable "max_file_size" {
  description = "MAX_FILE_SIZE: largest accepted file in bytes, through an upload session (the bytes go straight to S3): 256 MiB by default, at most 5 GiB (5368709120, what one CopyObject moves to originals/)."
  type        = number
  default     = 268435456

  validation {
    condition     = var.max_file_size >= 1 && var.max_file_size <= 5368709120
    error_message = "max_file_size must be between 1 and 5368709120 (5 GiB, one CopyObject)."
  }
}

variable "max_direct_upload_size" {
  description = "MAX_DIRECT_UPLOAD_SIZE: largest file POST /images takes in its request, in bytes (16 MiB by default; never more than max_file_size). Under Lambda the request is also capped at 4.5 MB (lambda_max_request_body): larger files go through upload sessions."
  type        = number
  default     = 16777216

  validation {
    condition     = var.max_direct_upload_size >= 1 && var.max_direct_upload_size <= 5368709120
    error_message = "max_direct_upload_size must be between 1 and 5368709120."
  }
}

variable "allowed_content_types" {
  description = "ALLOWED_CONTENT_TYPES: accepted image types."
  type        = list(string)
  default     = ["image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "image/heif", "image/avif"]
}

variable "log_level" {
  description = "LOG_LEVEL: DEBUG, INFO, WARNING, ERROR or CRITICAL."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING, ERROR or CRITICAL."
  }
}

variable "max_image_pixels" {
  description = "MAX_IMAGE_PIXELS: decompression-bomb guard."
  type        = number
  default     = 50000000
}

variable "max_image_frames" {
  description = "MAX_IMAGE_FRAMES: largest accepted frame count of animated images."
  type        = number
  default     = 200
}

variable "download_url_ttl" {
  description = "DOWNLOAD_URL_TTL: lifetime of presigned download URLs in seconds. A URL also dies with the credentials that signed it: at most 6 hours with ECS mode on (task role credentials), 12 hours otherwise (the longest role session), and often sooner."
  type        = number
  default     = 900

  # Both modes share the setting, so with ECS on its tasks' shorter credentials set the cap.
  validation {
    condition     = var.download_url_ttl >= 1 && var.download_url_ttl <= (var.enable_ecs ? 21600 : 43200)
    error_message = "download_url_ttl must be between 1 and 21600 seconds with enable_ecs (ECS task role credentials last 6 h at most), 43200 otherwise (12 h, the longest role session)."
  }
}

variable "sweep_grace_seconds" {
  description = "SWEEP_GRACE_SECONDS: age after which an unfinished upload/delete is swept."
  type        = number
  default     = 900
}

variable "log_retention_days" {
  description = "Retention of every CloudWatch log group."
  type        = number
  default     = 365
}

# --- Sign-in (Cognito user pool; the service's AUTH_* settings) ---------------------------

variable "allow_self_sign_up" {
  description = "Let anyone create an account in the user pool (confirmed by email); false (default): administrators create users."
  type        = bool
  default     = false
}

variable "password_minimum_length" {
  description = "Shortest password the user pool accepts (8 to 99); lower and upper case, digits and symbols are required."
  type        = number
  default     = 12
}

variable "temporary_password_validity_days" {
  description = "Days a temporary password set by an administrator stays usable for the first sign-in."
  type        = number
  default     = 7
}

variable "user_pool_mfa_configuration" {
  description = "TOTP second factor: OFF, OPTIONAL (default: each user may turn it on) or ON (required of every user)."
  type        = string
  default     = "OPTIONAL"
}

variable "admin_group" {
  description = "ADMIN_GROUP: the user pool group whose members may change and delete any image."
  type        = string
  default     = "admins"
}

variable "public_read" {
  description = "PUBLIC_READ: let anonymous callers list, read and download images (the HTTP API then lets those GET routes through without a token); writes always need one."
  type        = bool
  default     = false
}

variable "access_token_validity_minutes" {
  description = "Lifetime of access and ID tokens in minutes (5 to 60: a token outlives sign-out until it expires)."
  type        = number
  default     = 60

  validation {
    condition     = var.access_token_validity_minutes >= 5 && var.access_token_validity_minutes <= 60
    error_message = "access_token_validity_minutes must be between 5 and 60."
  }
}

variable "refresh_token_validity_days" {
  description = "Lifetime of refresh tokens in days (1 to 3650)."
  type        = number
  default     = 30
}

variable "user_pool_deletion_protection" {
  description = "Cognito deletion protection of the user pool (set false and apply before terraform destroy)."
  type        = bool
  default     = true
}

# --- Worker (both modes) and its queue ----------------------------------------------------

variable "worker_time_limit_seconds" {
  description = "Longest a job may run: the Lambda worker's timeout, and the ECS worker's stop timeout up to Fargate's 120 s. The jobs queue's visibility timeout is six times it."
  type        = number
  default     = 300

  validation {
    condition     = var.worker_time_limit_seconds >= 1 && var.worker_time_limit_seconds <= 900
    error_message = "worker_time_limit_seconds must be between 1 and 900 (Lambda's longest timeout)."
  }
}

variable "worker_memory_mb" {
  description = "Memory of the worker (Lambda function or ECS task) in MB; WORKER_MAX_DECODED_BYTES is a quarter of it. In ECS mode it must suit ecs_worker_cpu."
  type        = number
  default     = 2048

  validation {
    condition     = var.worker_memory_mb >= 512 && var.worker_memory_mb <= 10240
    error_message = "worker_memory_mb must be between 512 and 10240."
  }
}

variable "worker_max_image_pixels" {
  description = "WORKER_MAX_IMAGE_PIXELS: the worker's decompression-bomb guard (it decodes one image at a time)."
  type        = number
  default     = 120000000
}

variable "jobs_max_receive_count" {
  description = "Deliveries of a job before it moves to the dead-letter queue (AWS advises at least 5 for a queue Lambda reads)."
  type        = number
  default     = 5

  validation {
    condition     = var.jobs_max_receive_count >= 1 && var.jobs_max_receive_count <= 20
    error_message = "jobs_max_receive_count must be between 1 and 20."
  }
}

variable "jobs_oldest_message_alarm_seconds" {
  description = "The jobs queue's alarm fires when its oldest job has waited longer than this."
  type        = number
  default     = 900
}

variable "alarm_topic_arn" {
  description = "SNS topic the jobs queues' alarms notify; null: the alarms notify nobody (see them in CloudWatch)."
  type        = string
  default     = null
}

variable "lambda_worker_maximum_concurrency" {
  description = "Lambda mode: most worker invocations at a time (2 to 1000)."
  type        = number
  default     = 5
}

variable "ecs_worker_cpu" {
  description = "ECS mode: worker task CPU units (with worker_memory_mb: a combination Fargate offers)."
  type        = number
  default     = 1024
}

variable "ecs_worker_desired_count" {
  description = "ECS mode: worker tasks to run."
  type        = number
  default     = 1
}

variable "ecs_worker_ephemeral_storage_gib" {
  description = "ECS mode: worker task storage in GiB (21 to 200), where /tmp lives."
  type        = number
  default     = 21
}

# --- Lambda mode -------------------------------------------------------------------------

variable "lambda_memory_size" {
  description = "Lambda memory in MB."
  type        = number
  default     = 1024
}

variable "lambda_timeout" {
  description = "Lambda timeout in seconds (an HTTP API waits at most 30 s)."
  type        = number
  default     = 29
}

variable "lambda_reserved_concurrency" {
  description = "Reserved concurrent executions of the API function; null (default) reserves none. Lambda refuses a reservation that leaves the account fewer unreserved executions than its minimum (docs/deploy.md)."
  type        = number
  default     = null
}

variable "lambda_sweeper_reserved_concurrency" {
  description = "Reserved concurrent executions of the sweeper function; null (default) reserves none."
  type        = number
  default     = null
}

variable "lambda_tracing_mode" {
  description = "X-Ray tracing mode of the functions: Active or PassThrough."
  type        = string
  default     = "Active"
}

variable "lambda_max_request_body" {
  description = "MAX_REQUEST_BODY in Lambda: larger requests get a clean 413."
  type        = number
  default     = 4500000
}

variable "api_throttling_burst_limit" {
  description = "HTTP API burst limit."
  type        = number
  default     = 100
}

variable "api_throttling_rate_limit" {
  description = "HTTP API steady-state requests per second."
  type        = number
  default     = 50
}

variable "sweep_schedule_expression" {
  description = "Schedule of the sweeper Lambda (Lambda mode); null disables it."
  type        = string
  default     = "rate(15 minutes)"
}

# --- ECS mode ----------------------------------------------------------------------------

variable "vpc_id" {
  description = "VPC for ECS mode."
  type        = string
  default     = null

  validation {
    condition     = var.vpc_id != null || !var.enable_ecs
    error_message = "vpc_id (with public_subnet_ids and private_subnet_ids) is required when enable_ecs is true."
  }
}

variable "public_subnet_ids" {
  description = "Public subnets for the load balancer (ECS mode, two AZs or more)."
  type        = list(string)
  default     = []
}

variable "private_subnet_ids" {
  description = "Private subnets for the tasks (ECS mode), with a NAT gateway: besides AWS APIs they fetch the user pool's public keys from Cognito."
  type        = list(string)
  default     = []
}

variable "alb_certificate_arn" {
  description = "ACM certificate for the load balancer's HTTPS listener; null serves plain HTTP."
  type        = string
  default     = null
}

variable "ecs_public_url" {
  description = "ECS mode: the URL clients use, https://<domain> without a path, for a domain that alb_certificate_arn covers and that points at the load balancer. Required with a certificate (no certificate covers the load balancer's own name); without one, clients use the load balancer's http:// URL. The deploy pipeline smoke-tests it (output ecs_url)."
  type        = string
  default     = null

  validation {
    condition     = var.ecs_public_url == null ? true : can(regex("^https://[^/]+$", var.ecs_public_url))
    error_message = "ecs_public_url is https://host[:port], without a path or a trailing slash."
  }

  validation {
    condition     = !var.enable_ecs || var.alb_certificate_arn == null || var.ecs_public_url != null
    error_message = "ecs_public_url is required with alb_certificate_arn: the https:// URL of the domain the certificate covers."
  }
}

variable "alb_ingress_cidr_blocks" {
  description = "IPv4 ranges allowed to reach the load balancer."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "alb_deletion_protection" {
  description = "Load balancer deletion protection (set false and apply before terraform destroy)."
  type        = bool
  default     = true
}

variable "ecs_cpu" {
  description = "Fargate task CPU units."
  type        = number
  default     = 512
}

variable "ecs_memory" {
  description = "Fargate task memory in MiB."
  type        = number
  default     = 1024
}

variable "ecs_desired_count" {
  description = "Initial task count."
  type        = number
  default     = 2
}

variable "ecs_min_capacity" {
  description = "Autoscaling minimum task count."
  type        = number
  default     = 2
}

variable "ecs_max_capacity" {
  description = "Autoscaling maximum task count."
  type        = number
  default     = 6
}

variable "ecs_cpu_target_percent" {
  description = "Autoscaling target for average CPU utilization."
  type        = number
  default     = 60
}

variable "ecs_requests_per_target" {
  description = "Autoscaling target for ALB requests per task per minute; null disables it."
  type        = number
  default     = 1000
}

variable "gunicorn_workers" {
  description = "GUNICORN_WORKERS."
  type        = number
  default     = 2
}

variable "gunicorn_threads" {
  description = "GUNICORN_THREADS."
  type        = number
  default     = 8
}

variable "gunicorn_worker_class" {
  description = "GUNICORN_WORKER_CLASS."
  type        = string
  default     = "gthread"
}

variable "gallery_origins" {
  description = "Origins besides the deployed API's own URLs (https://host, no path) whose pages may upload to the bucket and call the HTTP API from the browser (CORS): custom domains in front of the API or the ALB, browser apps on other sites."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for origin in var.gallery_origins : can(regex("^https://[^/]+$", origin))])
    error_message = "Each gallery origin is https://host[:port], without a path or a trailing slash."
  }
}
