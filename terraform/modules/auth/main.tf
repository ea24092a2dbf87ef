# Sign-in: a Cognito user pool and one public app client. The service (both modes) and the
# HTTP API's JWT authorizer (Lambda mode) trust the tokens this pool issues to this client;
# neither calls Cognito with AWS credentials: the service fetches the pool's public JWKS.

resource "aws_cognito_user_pool" "users" {
  name = "${var.name_prefix}-users"

  deletion_protection = var.deletion_protection ? "ACTIVE" : "INACTIVE"

  # Usernames are the service's user ids (the access token's username claim, AUTH_USER_CLAIM):
  # compared without case, so "Alice" and "alice" cannot become two owners.
  username_configuration {
    case_sensitive = false
  }

  # No self-sign-up unless asked: administrators create the users (docs/deploy.md).
  admin_create_user_config {
    allow_admin_create_user_only = !var.allow_self_sign_up
  }

  password_policy {
    minimum_length                   = var.password_minimum_length
    require_lowercase                = true
    require_uppercase                = true
    require_numbers                  = true
    require_symbols                  = true
    temporary_password_validity_days = var.temporary_password_validity_days
  }

  # TOTP apps as a second factor (no SMS: that needs an SNS role and costs per message).
  # OPTIONAL lets each user turn it on; ON requires it of everyone at their next sign-in.
  # Cognito refuses OFF together with an enabled factor: with OFF there is no TOTP block.
  mfa_configuration = var.mfa_configuration

  dynamic "software_token_mfa_configuration" {
    for_each = var.mfa_configuration == "OFF" ? [] : [true]

    content {
      enabled = true
    }
  }

  # Self-sign-up confirms the email address; a verified address is how a forgotten password is
  # reset. Cognito's own email sending is capped at a few dozen messages a day.
  auto_verified_attributes = ["email"]

  account_recovery_setting {
    recovery_mechanism {
      name     = "verified_email"
      priority = 1
    }
  }
}

# Members may change and delete any image (moderation): the service's ADMIN_GROUP, read from
# the token's cognito:groups claim.
resource "aws_cognito_user_group" "admins" {
  name         = var.admin_group
  user_pool_id = aws_cognito_user_pool.users.id
  description  = "Moderators: may change and delete any user's images"
}

# A public client (browsers, the CLI, the service's future web sign-in): no secret, which a
# public client could not keep anyway.
resource "aws_cognito_user_pool_client" "public" {
  name         = "${var.name_prefix}-public"
  user_pool_id = aws_cognito_user_pool.users.id

  generate_secret = false

  # SRP keeps the password off the wire (the Amplify and Cognito SDKs use it); refresh renews
  # tokens without it. USER_PASSWORD_AUTH sends the password itself (over TLS to Cognito): the
  # service's planned web sign-in runs server-side, where SRP buys nothing, and it is what the
  # AWS CLI can do on its own (docs/deploy.md: getting a token).
  explicit_auth_flows = [
    "ALLOW_USER_SRP_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
    "ALLOW_USER_PASSWORD_AUTH",
  ]

  # A wrong username and a wrong password get the same answer.
  prevent_user_existence_errors = "ENABLED"
  enable_token_revocation       = true

  access_token_validity  = var.access_token_validity_minutes
  id_token_validity      = var.access_token_validity_minutes
  refresh_token_validity = var.refresh_token_validity_days

  token_validity_units {
    access_token  = "minutes"
    id_token      = "minutes"
    refresh_token = "days"
  }
}
