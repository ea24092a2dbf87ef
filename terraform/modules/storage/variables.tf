variable "name_prefix" {
  description = "Prefix of generated names (the bucket name when bucket_name is null)."
  type        = string
}

variable "bucket_name" {
  description = "Exact S3 bucket name; null lets Terraform generate a unique one from name_prefix."
  type        = string
  default     = null
}

variable "table_name" {
  description = "DynamoDB table name (the service reads it from DYNAMODB_TABLE_NAME)."
  type        = string
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which overwritten/deleted object versions are removed for good."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1
    error_message = "noncurrent_version_expiration_days must be at least 1."
  }
}

variable "abort_incomplete_multipart_upload_days" {
  description = "Days after which incomplete multipart uploads are aborted."
  type        = number
  default     = 1
}

variable "force_destroy" {
  description = "Allow terraform destroy to delete a non-empty bucket (keep false in production)."
  type        = bool
  default     = false
}

variable "deletion_protection" {
  description = "DynamoDB deletion protection; set false (and apply) before terraform destroy."
  type        = bool
  default     = true
}
