# mPyCloud on AWS: storage (S3 + DynamoDB), an ECR repository for the image, and the service
# in Lambda mode (HTTP API), ECS mode (Fargate + ALB), or both, sharing the same storage.

locals {
  # The settings the service reads (service/settings.py) in every mode, wired from the
  # resources; each mode's module adds its own (Lambda's body limit, gunicorn's).
  service_environment = {
    S3_BUCKET_NAME      = module.storage.bucket_name
    DYNAMODB_TABLE_NAME = module.storage.table_name
    CURSOR_SECRET       = random_password.cursor_secret.result
    # Files through upload sessions, and what POST /images takes in its request (under
    # Lambda MAX_REQUEST_BODY caps that request too).
    MAX_FILE_SIZE          = tostring(var.max_file_size)
    MAX_DIRECT_UPLOAD_SIZE = tostring(var.max_direct_upload_size)
    ALLOWED_CONTENT_TYPES  = join(",", var.allowed_content_types)
    LOG_LEVEL              = var.log_level
    MAX_IMAGE_PIXELS       = tostring(var.max_image_pixels)
    MAX_IMAGE_FRAMES       = tostring(var.max_image_frames)
    DOWNLOAD_URL_TTL       = tostring(var.download_url_ttl)
    SWEEP_GRACE_SECONDS    = tostring(var.sweep_grace_seconds)
    # Sign-in: the service verifies every bearer token itself, in both modes (ECS has no
    # authorizer in front of it), against the same issuer and client as the HTTP API's JWT
    # authorizer. The unauthenticated mode is for local runs only and never set here.
    AUTH_MODE       = "jwt"
    AUTH_ISSUER     = local.auth_issuer
    AUTH_CLIENT_IDS = local.auth_client_id
    ADMIN_GROUP     = local.auth_admin_group
    PUBLIC_READ     = tostring(var.public_read)
    # The API sends the worker's jobs there, and the worker takes them from there.
    JOBS_QUEUE_NAME = local.jobs_queue_name
  }

  # The worker's own settings, in both modes. It decodes one image at a time, within a budget
  # of a quarter of its memory (the rest holds the interpreter, the encoded image, its
  # renditions and the S3 transfers).
  worker_max_decoded_bytes = floor(var.worker_memory_mb * 1048576 / 4)
  # Its time limit is not a setting: Lambda's timeout bounds a job, ECS's stop timeout the
  # wait for one on SIGTERM.
  worker_environment = {
    WORKER_MAX_DECODED_BYTES = tostring(local.worker_max_decoded_bytes)
    WORKER_MAX_IMAGE_PIXELS  = tostring(var.worker_max_image_pixels)
  }

  # The user pool exists when a mode is deployed (one() gives null for storage-only stacks).
  auth_issuer      = one(module.auth[*].issuer)
  auth_client_id   = one(module.auth[*].client_id)
  auth_admin_group = one(module.auth[*].admin_group)
  jobs_queue_name  = one(module.jobs[*].queue_name)
  jobs_queue_arn   = one(module.jobs[*].queue_arn)

  table_name     = coalesce(var.table_name, "${var.name_prefix}-images")
  deploy_service = var.enable_lambda || var.enable_ecs
  image_uri      = local.deploy_service ? "${aws_ecr_repository.service[0].repository_url}:${var.image_tag}" : null
}

module "storage" {
  source = "./modules/storage"

  name_prefix                        = var.name_prefix
  bucket_name                        = var.bucket_name
  table_name                         = local.table_name
  noncurrent_version_expiration_days = var.noncurrent_version_expiration_days
  force_destroy                      = var.bucket_force_destroy
  deletion_protection                = var.table_deletion_protection
}

# --- Sign-in ---------------------------------------------------------------------------
# A Cognito user pool and its public app client: the tokens both modes accept.

module "auth" {
  source = "./modules/auth"
  count  = local.deploy_service ? 1 : 0

  name_prefix                      = var.name_prefix
  allow_self_sign_up               = var.allow_self_sign_up
  password_minimum_length          = var.password_minimum_length
  temporary_password_validity_days = var.temporary_password_validity_days
  mfa_configuration                = var.user_pool_mfa_configuration
  admin_group                      = var.admin_group
  access_token_validity_minutes    = var.access_token_validity_minutes
  refresh_token_validity_days      = var.refresh_token_validity_days
  deletion_protection              = var.user_pool_deletion_protection
}

# --- Jobs --------------------------------------------------------------------------------
# The worker's queue, its dead-letter queue and their alarms: the API sends, the worker of
# each deployed mode takes (with both modes on, both workers share the queue).

module "jobs" {
  source = "./modules/jobs"
  count  = local.deploy_service ? 1 : 0

  name                         = "${var.name_prefix}-jobs"
  worker_time_limit_seconds    = var.worker_time_limit_seconds
  max_receive_count            = var.jobs_max_receive_count
  oldest_message_alarm_seconds = var.jobs_oldest_message_alarm_seconds
  alarm_topic_arn              = var.alarm_topic_arn
}

# --- Image repository --------------------------------------------------------------------

resource "aws_ecr_repository" "service" {
  #checkov:skip=CKV_AWS_136:Images are encrypted at rest with AES-256 (ECR default); a KMS CMK adds key-policy management and is not required here.
  count = local.deploy_service ? 1 : 0

  name                 = var.name_prefix
  image_tag_mutability = "IMMUTABLE"
  # Destroy fails with RepositoryNotEmptyException while images exist, unless this is set.
  force_delete = var.ecr_force_delete

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "AES256"
  }
}

# Deployed images carry a release tag ("release-...": var.image_tag must start with it), and no
# rule selects those: the image Lambda or ECS runs must stay, or an idle function cannot come
# back and ECS cannot start tasks. Expired: untagged images after 7 days, and "build-..." images
# (CI and test pushes) beyond the 20 newest. ECR matches a rule against every tag of an image,
# so an image tagged both build-... and release-... counts as a build: push releases under their
# release tag only (docs/deploy.md).
locals {
  ecr_lifecycle_rules = [
    {
      rulePriority = 1
      description  = "Expire untagged images after 7 days"
      selection = {
        tagStatus   = "untagged"
        countType   = "sinceImagePushed"
        countUnit   = "days"
        countNumber = 7
      }
      action = { type = "expire" }
    },
    {
      rulePriority = 2
      description  = "Keep the 20 newest build- images; release- images are never expired"
      selection = {
        tagStatus     = "tagged"
        tagPrefixList = ["build-"]
        countType     = "imageCountMoreThan"
        countNumber   = 20
      }
      action = { type = "expire" }
    },
  ]
}

resource "aws_ecr_lifecycle_policy" "service" {
  count = local.deploy_service ? 1 : 0

  repository = aws_ecr_repository.service[0].name
  policy     = jsonencode({ rules = local.ecr_lifecycle_rules })
}

# --- Cursor secret -----------------------------------------------------------------------
# Signs pagination cursors; every instance (Lambda and ECS alike) must share it. It is passed
# as the plain environment variable CURSOR_SECRET (encrypted at rest, visible to whoever may
# read the function/task configuration, and stored in the Terraform state).

resource "random_password" "cursor_secret" {
  length  = 48
  special = false
}

# --- Lambda mode -------------------------------------------------------------------------

module "lambda_api" {
  source = "./modules/lambda_api"
  count  = var.enable_lambda ? 1 : 0

  name                         = "${var.name_prefix}-api"
  image_uri                    = local.image_uri
  architecture                 = var.image_architecture
  memory_size                  = var.lambda_memory_size
  timeout                      = var.lambda_timeout
  reserved_concurrency         = var.lambda_reserved_concurrency
  sweeper_reserved_concurrency = var.lambda_sweeper_reserved_concurrency
  tracing_mode                 = var.lambda_tracing_mode
  log_retention_days           = var.log_retention_days
  throttling_burst_limit       = var.api_throttling_burst_limit
  throttling_rate_limit        = var.api_throttling_rate_limit
  sweep_schedule_expression    = var.sweep_schedule_expression

  service_environment = local.service_environment
  service_policy_json = module.storage.service_policy_json
  max_request_body    = var.lambda_max_request_body

  # The worker: a second function from the image, fed by the jobs queue.
  queue_send_policy_json     = one(module.jobs[*].send_policy_json)
  queue_consume_policy_json  = one(module.jobs[*].consume_policy_json)
  jobs_queue_arn             = local.jobs_queue_arn
  worker_policy_json         = module.storage.worker_policy_json
  worker_environment         = local.worker_environment
  worker_memory_size         = var.worker_memory_mb
  worker_timeout             = var.worker_time_limit_seconds
  worker_maximum_concurrency = var.lambda_worker_maximum_concurrency

  # The deploy pipeline's apply role may create roles only with this boundary.
  role_permissions_boundary = var.role_permissions_boundary

  # The JWT authorizer trusts what the service trusts (AUTH_ISSUER, AUTH_CLIENT_IDS above).
  jwt_issuer   = local.auth_issuer
  jwt_audience = [local.auth_client_id]
  public_read  = var.public_read

  # The custom domains whose pages may upload to the bucket may call the API from the browser.
  cors_allow_origins = var.gallery_origins
}

# --- ECS mode ----------------------------------------------------------------------------

module "ecs_service" {
  source = "./modules/ecs_service"
  count  = var.enable_ecs ? 1 : 0

  name                = "${var.name_prefix}-svc"
  image_uri           = local.image_uri
  ecr_repository_arn  = aws_ecr_repository.service[0].arn
  architecture        = upper(var.image_architecture)
  vpc_id              = var.vpc_id
  public_subnet_ids   = var.public_subnet_ids
  private_subnet_ids  = var.private_subnet_ids
  certificate_arn     = var.alb_certificate_arn
  ingress_cidr_blocks = var.alb_ingress_cidr_blocks
  deletion_protection = var.alb_deletion_protection
  cpu                 = var.ecs_cpu
  memory              = var.ecs_memory
  desired_count       = var.ecs_desired_count
  min_capacity        = var.ecs_min_capacity
  max_capacity        = var.ecs_max_capacity
  cpu_target_percent  = var.ecs_cpu_target_percent
  requests_per_target = var.ecs_requests_per_target
  log_retention_days  = var.log_retention_days

  gunicorn_workers      = var.gunicorn_workers
  gunicorn_threads      = var.gunicorn_threads
  gunicorn_worker_class = var.gunicorn_worker_class

  service_environment = local.service_environment
  service_policy_json = module.storage.service_policy_json

  # The worker: a second service from the image, without a load balancer.
  queue_send_policy_json       = one(module.jobs[*].send_policy_json)
  queue_consume_policy_json    = one(module.jobs[*].consume_policy_json)
  worker_policy_json           = module.storage.worker_policy_json
  worker_environment           = local.worker_environment
  worker_time_limit_seconds    = var.worker_time_limit_seconds
  worker_cpu                   = var.ecs_worker_cpu
  worker_memory                = var.worker_memory_mb
  worker_desired_count         = var.ecs_worker_desired_count
  worker_ephemeral_storage_gib = var.ecs_worker_ephemeral_storage_gib

  role_permissions_boundary = var.role_permissions_boundary
}

# --- The gallery's uploads ---------------------------------------------------------------
# The gallery's page sends upload bytes straight to the bucket (a presigned POST, or one PUT
# per part whose ETag it reads), cross-origin: the bucket must allow the page's origins, and
# only those. Each deployed mode's own URL, ECS mode's public URL, and any custom domain in
# var.gallery_origins.
locals {
  gallery_origins = distinct(concat(
    [for url in module.lambda_api[*].api_url : regex("^https://[^/]+", url)],
    module.ecs_service[*].url,
    var.enable_ecs && var.ecs_public_url != null ? [var.ecs_public_url] : [],
    var.gallery_origins,
  ))
  # Whether there is a rule at all follows from the settings: the modes' URLs, and so the list
  # above, are known only after the first apply, and count must be known at plan time.
  gallery_cors = local.deploy_service || length(var.gallery_origins) > 0
}

resource "aws_s3_bucket_cors_configuration" "gallery_uploads" {
  count  = local.gallery_cors ? 1 : 0
  bucket = module.storage.bucket_name

  cors_rule {
    allowed_methods = ["POST", "PUT"]
    allowed_origins = local.gallery_origins
    allowed_headers = ["Content-Type"]
    expose_headers  = ["ETag"]
    max_age_seconds = 3600
  }
}
