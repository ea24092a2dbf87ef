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
# IAM offers two of the token's claims as condition keys, aud and sub; GitHub's others
# (job_workflow_ref, ref, ...) are not, and a condition on one would never match. sub names
# the repository and the job's environment exactly, so another repository or a job outside the
# environment gets no credentials. Which branches and tags may run in an environment is the
# environment's deployment rule on GitHub (docs/deploy.md): main and release-* only.

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
# hold 6,144. One resource makes them all, from these maps, keyed by the document's name.
locals {
  deploy_policy_descriptions = {
    read        = "Read what the ${var.name_prefix} stack manages (terraform refresh)"
    image_push  = "Push images to the ${var.name_prefix} ECR repository"
    state_read  = "Read the ${var.name_prefix} Terraform state and take its lock"
    plan_write  = "Save ${var.name_prefix} Terraform plans next to the state, for the apply job"
    write       = "Change what the ${var.name_prefix} stack manages (terraform apply)"
    write_jobs  = "Change the ${var.name_prefix} stack's jobs queues, the worker's feed and their alarms (terraform apply)"
    state_write = "Write the ${var.name_prefix} Terraform state"
    read_ecs    = "Read the ${var.name_prefix} stack's ECS mode (terraform refresh)"
    write_ecs   = "Change the ${var.name_prefix} stack's ECS mode (terraform apply)"
  }
  # one() of an absent ECS document is null; those keys are left out of deploy_policy_names.
  deploy_policy_documents = {
    read        = data.aws_iam_policy_document.read.json
    image_push  = data.aws_iam_policy_document.image_push.json
    state_read  = data.aws_iam_policy_document.state_read.json
    plan_write  = data.aws_iam_policy_document.plan_write.json
    write       = data.aws_iam_policy_document.write.json
    write_jobs  = data.aws_iam_policy_document.write_jobs.json
    state_write = data.aws_iam_policy_document.state_write.json
    read_ecs    = one(data.aws_iam_policy_document.read_ecs[*].json)
    write_ecs   = one(data.aws_iam_policy_document.write_ecs[*].json)
  }
  ecs_policy_names = ["read_ecs", "write_ecs"]
  deploy_policy_names = [
    for name in keys(local.deploy_policy_descriptions) : name
    if var.enable_ecs || !contains(local.ecs_policy_names, name)
  ]

  # Which role holds which policy: names only, so that for_each is known before any policy
  # exists (their ARNs are not).
  plan_policies = concat(
    ["read", "image_push", "state_read", "plan_write"],
    var.enable_ecs ? ["read_ecs"] : [],
  )
  apply_policies = concat(
    ["read", "state_read", "state_write", "write", "write_jobs"],
    var.enable_ecs ? ["read_ecs", "write_ecs"] : [],
  )
}

resource "aws_iam_policy" "deploy" {
  for_each = toset(local.deploy_policy_names)

  name        = "${var.name_prefix}-deploy-${replace(each.key, "_", "-")}"
  path        = local.iam_path
  description = local.deploy_policy_descriptions[each.key]
  policy      = local.deploy_policy_documents[each.key]
}

moved {
  from = aws_iam_policy.read
  to   = aws_iam_policy.deploy["read"]
}

moved {
  from = aws_iam_policy.image_push
  to   = aws_iam_policy.deploy["image_push"]
}

moved {
  from = aws_iam_policy.state_read
  to   = aws_iam_policy.deploy["state_read"]
}

moved {
  from = aws_iam_policy.plan_write
  to   = aws_iam_policy.deploy["plan_write"]
}

moved {
  from = aws_iam_policy.write
  to   = aws_iam_policy.deploy["write"]
}

moved {
  from = aws_iam_policy.state_write
  to   = aws_iam_policy.deploy["state_write"]
}

moved {
  from = aws_iam_policy.read_ecs[0]
  to   = aws_iam_policy.deploy["read_ecs"]
}

moved {
  from = aws_iam_policy.write_ecs[0]
  to   = aws_iam_policy.deploy["write_ecs"]
}

resource "aws_iam_role_policy_attachment" "plan" {
  for_each = toset(local.plan_policies)

  role       = aws_iam_role.plan.name
  policy_arn = aws_iam_policy.deploy[each.key].arn
}

resource "aws_iam_role_policy_attachment" "apply" {
  for_each = toset(local.apply_policies)

  role       = aws_iam_role.apply.name
  policy_arn = aws_iam_policy.deploy[each.key].arn
}
