output "user_pool_id" {
  description = "ID of the user pool."
  value       = aws_cognito_user_pool.users.id
}

output "user_pool_arn" {
  description = "ARN of the user pool."
  value       = aws_cognito_user_pool.users.arn
}

output "client_id" {
  description = "ID of the public app client: the audience of the tokens (AUTH_CLIENT_IDS)."
  value       = aws_cognito_user_pool_client.public.id
}

output "issuer" {
  description = "Issuer of the pool's tokens, https://cognito-idp.<region>.amazonaws.com/<pool id> (AUTH_ISSUER)."
  # endpoint is "cognito-idp.<region>.amazonaws.com/<pool id>"; the iss claim adds the scheme.
  value = "https://${aws_cognito_user_pool.users.endpoint}"
}

output "admin_group" {
  description = "Name of the moderators' group (ADMIN_GROUP)."
  value       = aws_cognito_user_group.admins.name
}
