output "plan_role_arn" {
  description = "Role of the deploy workflow's plan job (variable AWS_PLAN_ROLE_ARN)."
  value       = aws_iam_role.plan.arn
}

output "apply_role_arn" {
  description = "Role of the deploy workflow's apply job (variable AWS_APPLY_ROLE_ARN)."
  value       = aws_iam_role.apply.arn
}

output "role_permissions_boundary_arn" {
  description = "The stack's role_permissions_boundary (variable ROLE_PERMISSIONS_BOUNDARY_ARN)."
  value       = aws_iam_policy.workload_boundary.arn
}

output "oidc_provider_arn" {
  description = "GitHub's OIDC provider in this account."
  value       = local.oidc_provider_arn
}

output "github_plan_environment" {
  description = "The GitHub environment of the plan job, which holds the variables below."
  value       = local.plan_environment
}

output "github_variables" {
  description = "Variables to set on the plan job's GitHub environment (docs/deploy.md)."
  value = {
    AWS_REGION                    = var.region
    AWS_PLAN_ROLE_ARN             = aws_iam_role.plan.arn
    AWS_APPLY_ROLE_ARN            = aws_iam_role.apply.arn
    ROLE_PERMISSIONS_BOUNDARY_ARN = aws_iam_policy.workload_boundary.arn
    TF_STATE_BUCKET               = var.state_bucket
    TF_STATE_KEY                  = local.state_key
    NAME_PREFIX                   = var.name_prefix
  }
}
