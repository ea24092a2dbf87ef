# ECS mode (enable_ecs): the cluster, service and task definitions, the load balancer with its
# listeners and target group, the two security groups in vpc_id, and autoscaling.

data "aws_iam_policy_document" "read_ecs" {
  count = var.enable_ecs ? 1 : 0

  statement {
    sid       = "ReadEcs"
    actions   = ["ecs:DescribeClusters", "ecs:DescribeServices", "ecs:ListTagsForResource"]
    resources = [local.stack_clusters, local.stack_services, local.stack_task_definitions]
  }

  statement {
    sid = "DescribeNetworkAndScaling"
    # None of these has resource-level permissions.
    actions = [
      "ecs:DescribeTaskDefinition",
      "elasticloadbalancing:DescribeListenerAttributes",
      "elasticloadbalancing:DescribeListeners",
      "elasticloadbalancing:DescribeLoadBalancerAttributes",
      "elasticloadbalancing:DescribeLoadBalancers",
      "elasticloadbalancing:DescribeTags",
      "elasticloadbalancing:DescribeTargetGroupAttributes",
      "elasticloadbalancing:DescribeTargetGroups",
      "ec2:DescribeAccountAttributes",
      "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeSecurityGroupRules",
      "ec2:DescribeSecurityGroups",
      "ec2:DescribeSubnets",
      "ec2:DescribeVpcs",
      "application-autoscaling:DescribeScalableTargets",
      "application-autoscaling:DescribeScalingPolicies",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "ReadScalingTags"
    actions   = ["application-autoscaling:ListTagsForResource"]
    resources = [local.scalable_targets]
  }
}

data "aws_iam_policy_document" "write_ecs" {
  count = var.enable_ecs ? 1 : 0

  statement {
    sid = "ConfigureCluster"
    actions = [
      "ecs:CreateCluster",
      "ecs:UpdateCluster",
      "ecs:UpdateClusterSettings",
      "ecs:DeleteCluster",
      "ecs:TagResource",
      "ecs:UntagResource",
    ]
    resources = [local.stack_clusters]
  }

  statement {
    sid = "DeployService"
    actions = [
      "ecs:CreateService",
      "ecs:UpdateService",
      "ecs:DeleteService",
      "ecs:TagResource",
      "ecs:UntagResource",
      "ecs:RegisterTaskDefinition",
    ]
    resources = [local.stack_services, local.stack_task_definitions]
  }

  statement {
    sid = "DeregisterTaskDefinitions"
    # DeregisterTaskDefinition has no resource-level permissions.
    actions   = ["ecs:DeregisterTaskDefinition"]
    resources = ["*"]
  }

  statement {
    sid = "CreateServiceLinkedRoles"
    # Made once per account, by the first ECS service, load balancer or scalable target.
    actions   = ["iam:CreateServiceLinkedRole"]
    resources = ["arn:${local.partition}:iam::${local.account}:role/aws-service-role/*"]

    condition {
      test     = "StringEquals"
      variable = "iam:AWSServiceName"
      values = [
        "ecs.amazonaws.com",
        "elasticloadbalancing.amazonaws.com",
        "ecs.application-autoscaling.amazonaws.com",
      ]
    }
  }

  statement {
    sid = "ConfigureLoadBalancer"
    actions = [
      "elasticloadbalancing:CreateLoadBalancer",
      "elasticloadbalancing:DeleteLoadBalancer",
      "elasticloadbalancing:ModifyLoadBalancerAttributes",
      "elasticloadbalancing:SetSecurityGroups",
      "elasticloadbalancing:SetSubnets",
      "elasticloadbalancing:CreateListener",
      "elasticloadbalancing:ModifyListener",
      "elasticloadbalancing:DeleteListener",
      "elasticloadbalancing:CreateTargetGroup",
      "elasticloadbalancing:ModifyTargetGroup",
      "elasticloadbalancing:ModifyTargetGroupAttributes",
      "elasticloadbalancing:DeleteTargetGroup",
      "elasticloadbalancing:AddTags",
      "elasticloadbalancing:RemoveTags",
    ]
    resources = [local.stack_load_balancers, local.stack_listeners, local.stack_target_groups]
  }

  statement {
    sid       = "CreateSecurityGroupsInTheVpc"
    actions   = ["ec2:CreateSecurityGroup"]
    resources = [local.stack_vpc, local.security_groups]
  }

  statement {
    sid       = "TagNewSecurityGroupsAndRules"
    actions   = ["ec2:CreateTags"]
    resources = [local.security_groups, local.security_group_rules]

    condition {
      test     = "StringEquals"
      variable = "ec2:CreateAction"
      values   = ["CreateSecurityGroup", "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress"]
    }
  }

  statement {
    sid = "ChangeSecurityGroupsInTheVpc"
    # Any security group of vpc_id, not others: groups have generated ids.
    actions = [
      "ec2:AuthorizeSecurityGroupEgress",
      "ec2:AuthorizeSecurityGroupIngress",
      "ec2:RevokeSecurityGroupEgress",
      "ec2:RevokeSecurityGroupIngress",
      "ec2:ModifySecurityGroupRules",
      "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
      "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
      "ec2:DeleteSecurityGroup",
      "ec2:CreateTags",
      "ec2:DeleteTags",
    ]
    resources = [local.security_groups]

    condition {
      test     = "ArnEquals"
      variable = "ec2:Vpc"
      values   = [local.stack_vpc]
    }
  }

  statement {
    sid = "ChangeTheirRules"
    # A rule is authorized on its group (above) and on itself; rules carry no VPC key.
    actions = [
      "ec2:AuthorizeSecurityGroupEgress",
      "ec2:AuthorizeSecurityGroupIngress",
      "ec2:ModifySecurityGroupRules",
      "ec2:DeleteTags",
    ]
    resources = [local.security_group_rules]
  }

  statement {
    sid       = "PassTheTaskRolesToEcs"
    actions   = ["iam:PassRole"]
    resources = local.ecs_task_roles

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }

  statement {
    sid = "TargetTrackingAlarms"
    # PutScalingPolicy makes a target tracking policy's alarms with the caller's permissions.
    actions = [
      "cloudwatch:PutMetricAlarm",
      "cloudwatch:DescribeAlarms",
      "cloudwatch:DeleteAlarms",
    ]
    resources = [local.target_tracking_alarms]
  }

  statement {
    sid = "ScaleTheService"
    actions = [
      "application-autoscaling:RegisterScalableTarget",
      "application-autoscaling:DeregisterScalableTarget",
      "application-autoscaling:PutScalingPolicy",
      "application-autoscaling:DeleteScalingPolicy",
      "application-autoscaling:TagResource",
      "application-autoscaling:UntagResource",
    ]
    resources = [local.scalable_targets]
  }
}
