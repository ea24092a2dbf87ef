# Access for the deploy workflow (.github/workflows/deploy.yml) to the stack in terraform/:
# GitHub's OIDC provider and two roles that only that workflow's jobs can assume, with no
# stored keys.
#   plan role:  the plan job (environment "<github_environment>-plan", no reviewers). Reads the
#               stack, reads the state and takes its lock, and pushes images to the stack's
#               ECR repository. It changes nothing else.
#   apply role: the apply job (environment "<github_environment>", required reviewers). It can
#               change what the stack manages, and nothing named otherwise.
# This is a separate root module, applied once by an administrator with its own state: a role
# that could change its own permissions would have no limit at all.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  repository = "${var.github_owner}/${var.github_repository}"
  # The apply job's environment has required reviewers; the plan job's has none.
  apply_environment = var.github_environment
  plan_environment  = "${var.github_environment}-plan"
  job_environments = {
    plan  = local.plan_environment
    apply = local.apply_environment
  }
  # Jobs of the deploy workflow as it is on main or on a release tag, never on another branch.
  deploy_workflow_refs = [
    "${local.repository}/.github/workflows/deploy.yml@refs/heads/main",
    "${local.repository}/.github/workflows/deploy.yml@refs/tags/release-*",
  ]

  # The roles and their policies live under their own path, which no pattern below matches:
  # the apply role cannot change them.
  iam_path  = "/github-actions/"
  state_key = coalesce(var.state_key, "${var.name_prefix}/terraform.tfstate")
  oidc_provider_arn = (var.create_oidc_provider
    ? one(aws_iam_openid_connect_provider.github[*].arn)
    : one(data.aws_iam_openid_connect_provider.github[*].arn)
  )
}

# --- OIDC provider -----------------------------------------------------------------------
# No thumbprint: IAM trusts GitHub's certificate through its own root CAs.

resource "aws_iam_openid_connect_provider" "github" {
  count = var.create_oidc_provider ? 1 : 0

  url            = "https://token.actions.githubusercontent.com"
  client_id_list = ["sts.amazonaws.com"]
}

data "aws_iam_openid_connect_provider" "github" {
  count = var.create_oidc_provider ? 0 : 1

  url = "https://token.actions.githubusercontent.com"
}

# --- Trust: which jobs may assume each role ------------------------------------------------
# sub names the repository and the job's environment; job_workflow_ref names the workflow file
# and the ref it ran from. Both must match, so another workflow of the repository, the deploy
# workflow on a feature branch, or a job outside the environment gets no credentials.

data "aws_iam_policy_document" "trust" {
  for_each = local.job_environments

  statement {
    sid     = "DeployWorkflow${title(each.key)}Job"
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = ["repo:${local.repository}:environment:${each.value}"]
    }

    condition {
      test     = "StringLike"
      variable = "token.actions.githubusercontent.com:job_workflow_ref"
      values   = local.deploy_workflow_refs
    }
  }
}

# --- Roles -------------------------------------------------------------------------------

resource "aws_iam_role" "plan" {
  name                 = "${var.name_prefix}-deploy-plan"
  path                 = local.iam_path
  description          = "terraform plan and image push by ${local.repository}'s deploy workflow"
  assume_role_policy   = data.aws_iam_policy_document.trust["plan"].json
  max_session_duration = 3600
}

resource "aws_iam_role" "apply" {
  name                 = "${var.name_prefix}-deploy-apply"
  path                 = local.iam_path
  description          = "terraform apply by ${local.repository}'s deploy workflow, after approval"
  assume_role_policy   = data.aws_iam_policy_document.trust["apply"].json
  max_session_duration = 3600
}

# Customer managed policies, not inline ones: a role's inline policies share one 10,240
# character quota, which the apply role's permissions would exceed; each managed policy may
# hold 6,144.
locals {
  plan_policies = merge(
    {
      read       = aws_iam_policy.read.arn
      image_push = aws_iam_policy.image_push.arn
      state_read = aws_iam_policy.state_read.arn
      plan_write = aws_iam_policy.plan_write.arn
    },
    var.enable_ecs ? { read_ecs = aws_iam_policy.read_ecs[0].arn } : {},
  )
  apply_policies = merge(
    {
      read        = aws_iam_policy.read.arn
      state_read  = aws_iam_policy.state_read.arn
      state_write = aws_iam_policy.state_write.arn
      write       = aws_iam_policy.write.arn
    },
    var.enable_ecs ? { read_ecs = aws_iam_policy.read_ecs[0].arn, write_ecs = aws_iam_policy.write_ecs[0].arn } : {},
  )
}

resource "aws_iam_role_policy_attachment" "plan" {
  for_each = local.plan_policies

  role       = aws_iam_role.plan.name
  policy_arn = each.value
}

resource "aws_iam_role_policy_attachment" "apply" {
  for_each = local.apply_policies

  role       = aws_iam_role.apply.name
  policy_arn = each.value
}
