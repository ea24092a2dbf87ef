variable "name_prefix" {
  description = "Prefix of the user pool's and the app client's names."
  type        = string
}

variable "allow_self_sign_up" {
  description = "Let anyone create an account (SignUp, confirmed by email); false: administrators create users."
  type        = bool
  default     = false
}

variable "password_minimum_length" {
  description = "Shortest password accepted: 8 to 99 characters."
  type        = number
  default     = 12

  validation {
    condition     = var.password_minimum_length >= 8 && var.password_minimum_length <= 99
    error_message = "password_minimum_length must be between 8 and 99."
  }
}

variable "temporary_password_validity_days" {
  description = "Days an administrator-set temporary password stays usable for the first sign-in."
  type        = number
  default     = 7

  validation {
    condition     = var.temporary_password_validity_days >= 1 && var.temporary_password_validity_days <= 365
    error_message = "temporary_password_validity_days must be between 1 and 365."
  }
}

variable "mfa_configuration" {
  description = "TOTP second factor: OFF, OPTIONAL (each user may turn it on) or ON (required)."
  type        = string
  default     = "OPTIONAL"

  validation {
    condition     = contains(["OFF", "OPTIONAL", "ON"], var.mfa_configuration)
    error_message = "mfa_configuration must be OFF, OPTIONAL or ON."
  }
}

variable "admin_group" {
  description = "Name of the group whose members may change and delete any image (the service's ADMIN_GROUP)."
  type        = string
  default     = "admins"
}

# Sign-out revokes the refresh token, but an access token already issued is checked against the
# pool's keys alone (by the service and the JWT authorizer): it stays valid until it expires.
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
  description = "Lifetime of refresh tokens in days (Cognito allows up to 3650)."
  type        = number
  default     = 30

  validation {
    condition     = var.refresh_token_validity_days >= 1 && var.refresh_token_validity_days <= 3650
    error_message = "refresh_token_validity_days must be between 1 and 3650."
  }
}

variable "deletion_protection" {
  description = "Cognito deletion protection of the user pool (set false and apply before terraform destroy)."
  type        = bool
  default     = true
}
