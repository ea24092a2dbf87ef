variable "name" {
  description = "Name of the cluster, service, load balancer, roles and log group."
  type        = string
}

variable "image_uri" {
  description = "Container image (ECR repository URL with tag or digest)."
  type        = string
}

variable "ecr_repository_arn" {
  description = "ARN of the ECR repository the execution role may pull from."
  type        = string
}

variable "architecture" {
  description = "CPU architecture the image was built for: X86_64 or ARM64."
  type        = string
  default     = "X86_64"

  validation {
    condition     = contains(["X86_64", "ARM64"], var.architecture)
    error_message = "architecture must be X86_64 or ARM64."
  }
}

variable "vpc_id" {
  description = "VPC to run in."
  type        = string
  nullable    = false
}

variable "public_subnet_ids" {
  description = "Public subnets (at least two availability zones) for the load balancer."
  type        = list(string)

  validation {
    condition     = length(var.public_subnet_ids) >= 2
    error_message = "An application load balancer needs public subnets in at least two AZs."
  }
}

variable "private_subnet_ids" {
  description = "Private subnets for the tasks; they need a route to AWS APIs (NAT or endpoints)."
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_ids) >= 1
    error_message = "At least one private subnet is required for the tasks."
  }
}

variable "certificate_arn" {
  description = "ACM certificate for HTTPS; null serves plain HTTP (for tests only)."
  type        = string
  default     = null
}

variable "ingress_cidr_blocks" {
  description = "IPv4 ranges that may reach the load balancer."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "deletion_protection" {
  description = "Load balancer deletion protection; set false (and apply) before terraform destroy."
  type        = bool
  default     = true
}

variable "cpu" {
  description = "Task CPU units (256, 512, 1024, ...)."
  type        = number
  default     = 512
}

variable "memory" {
  description = "Task memory in MiB."
  type        = number
  default     = 1024
}

variable "desired_count" {
  description = "Tasks to start with; autoscaling takes over afterwards."
  type        = number
  default     = 2
}

variable "min_capacity" {
  description = "Autoscaling minimum task count."
  type        = number
  default     = 2
}

variable "max_capacity" {
  description = "Autoscaling maximum task count."
  type        = number
  default     = 6
}

variable "cpu_target_percent" {
  description = "Target average CPU utilization for autoscaling."
  type        = number
  default     = 60
}

variable "requests_per_target" {
  description = "Target ALB requests per task (per minute) for autoscaling; null disables it."
  type        = number
  default     = 1000
}

variable "log_retention_days" {
  description = "Retention of the container log group."
  type        = number
  default     = 365
}

variable "container_port" {
  description = "Port gunicorn listens on (PORT)."
  type        = number
  default     = 8000
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

variable "service_policy_json" {
  description = "Least-privilege data-access policy (from the storage module)."
  type        = string
}

variable "service_environment" {
  description = "The service's settings common to every mode (root module: local.service_environment)."
  type        = map(string)
  sensitive   = true # holds CURSOR_SECRET
}

variable "role_permissions_boundary" {
  description = "ARN of the managed policy set as the permissions boundary of every role this module creates; null sets none."
  type        = string
  default     = null
}

# --- Worker ------------------------------------------------------------------------------

variable "queue_send_policy_json" {
  description = "IAM policy of the service's task role on the jobs queue (from the jobs module)."
  type        = string
}

variable "queue_consume_policy_json" {
  description = "IAM policy of the worker's task role on the jobs queue (from the jobs module)."
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

variable "worker_time_limit_seconds" {
  description = "Longest a job may run; the worker container's stop timeout follows it, up to Fargate's 120 s."
  type        = number
  default     = 300
}

variable "worker_cpu" {
  description = "Worker task CPU units."
  type        = number
  default     = 1024
}

variable "worker_memory" {
  description = "Worker task memory in MiB; its decode budget (WORKER_MAX_DECODED_BYTES) is sized from it."
  type        = number
  default     = 2048
}

variable "worker_desired_count" {
  description = "Worker tasks to run."
  type        = number
  default     = 1
}

variable "worker_ephemeral_storage_gib" {
  description = "Worker task storage in GiB (21 to 200), where /tmp lives."
  type        = number
  default     = 21

  validation {
    condition     = var.worker_ephemeral_storage_gib >= 21 && var.worker_ephemeral_storage_gib <= 200
    error_message = "worker_ephemeral_storage_gib must be between 21 and 200 (Fargate's bounds)."
  }
}
