# --- The GitHub side ---------------------------------------------------------------------

variable "github_owner" {
  description = "GitHub organisation or user that owns the repository, spelled as in its URL (the OIDC sub claim compares it exactly)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$", var.github_owner))
    error_message = "github_owner must be a GitHub organisation or user name."
  }
}

variable "github_repository" {
  description = "Name of the repository whose deploy workflow may assume the roles (without the owner)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,100}$", var.github_repository))
    error_message = "github_repository must be a repository name without the owner."
  }
}

variable "github_environment" {
  description = "GitHub environment of the apply job (required reviewers): only jobs of .github/workflows/deploy.yml in this environment may assume the apply role."
  type        = string
  default     = "production"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{1,255}$", var.github_environment)) && !endswith(var.github_environment, "-plan")
    error_message = "github_environment must be an environment name that does not end with -plan (that suffix names the plan job's environment)."
  }
}

variable "create_oidc_provider" {
  description = "Create the account's GitHub OIDC provider; false looks up the existing one (an account can hold only one per URL)."
  type        = bool
  default     = true
}

# --- The stack the pipeline deploys (terraform/) ------------------------------------------

variable "region" {
  description = "Region of the stack (the stack's own region variable)."
  type        = string
  default     = "us-east-1"
}

variable "name_prefix" {
  description = "The stack's name_prefix: the roles may manage only resources named from it."
  type        = string
  default     = "mpycloud"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", var.name_prefix)) && length(var.name_prefix) >= 2 && length(var.name_prefix) <= 21
    error_message = "name_prefix must be the stack's name_prefix (2-21 lowercase letters and digits with single hyphens)."
  }
}

variable "enable_ecs" {
  description = "Let the apply role manage ECS mode (cluster, service, load balancer, security groups in vpc_id, autoscaling)."
  type        = bool
  default     = false
}

variable "vpc_id" {
  description = "ECS mode: the VPC whose security groups the apply role may change (the stack's vpc_id)."
  type        = string
  default     = null

  validation {
    condition     = var.vpc_id != null || !var.enable_ecs
    error_message = "vpc_id is required when enable_ecs is true."
  }
}

# --- Terraform state ---------------------------------------------------------------------

variable "state_bucket" {
  description = "Existing S3 bucket holding the stack's Terraform state (versioned, SSE-S3). It must not be named like the stack's own buckets."
  type        = string

  validation {
    condition     = !startswith(var.state_bucket, "${var.name_prefix}-")
    error_message = "state_bucket must not start with \"<name_prefix>-\": the apply role manages buckets named that way."
  }
}

variable "state_key" {
  description = "Object key of the stack's state in state_bucket; null uses \"<name_prefix>/terraform.tfstate\"."
  type        = string
  default     = null
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}
