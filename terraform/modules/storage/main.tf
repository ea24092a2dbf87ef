# Image storage: the S3 bucket that holds the originals and the DynamoDB table with their
# metadata. The table's keys and index mirror service/adapters/dynamodb_table.py; a contract
# test (tests/terraform) fails if the two drift apart.

# --- S3 ----------------------------------------------------------------------------------

resource "aws_s3_bucket" "images" {
  #checkov:skip=CKV_AWS_18:Server access logs would need a second log bucket (which itself needs logging); use CloudTrail S3 data events if object-level audit is required.
  #checkov:skip=CKV_AWS_144:Cross-region replication doubles storage cost and is a disaster-recovery choice, not a default; versioning covers accidental deletes.
  #checkov:skip=CKV_AWS_145:Encrypted at rest with SSE-S3 (AES-256); a KMS CMK adds per-request KMS cost and key-policy management and is not required here.
  #checkov:skip=CKV2_AWS_62:The service does not consume S3 event notifications (uploads go through the API, which writes DynamoDB itself).
  bucket        = var.bucket_name
  bucket_prefix = var.bucket_name == null ? "${var.name_prefix}-images-" : null
  force_destroy = var.force_destroy
}

resource "aws_s3_bucket_public_access_block" "images" {
  bucket = aws_s3_bucket.images.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "images" {
  bucket = aws_s3_bucket.images.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "images" {
  bucket = aws_s3_bucket.images.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_versioning" "images" {
  bucket = aws_s3_bucket.images.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "images" {
  bucket = aws_s3_bucket.images.id

  # Versioning must be on before noncurrent-version rules mean anything.
  depends_on = [aws_s3_bucket_versioning.images]

  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_upload_days
    }
  }

  # Upload sessions last hours at most; whatever the sweeper missed under incoming/ goes.
  rule {
    id     = "expire-incoming-uploads"
    status = "Enabled"

    filter {
      prefix = "incoming/"
    }

    expiration {
      days = 1
    }

    # Versioning keeps what complete moved or the sweeper deleted as a noncurrent version;
    # of an upload in progress it is worth nothing past the day. S3 applies the shorter of
    # this and the bucket-wide rule.
    noncurrent_version_expiration {
      noncurrent_days = 1
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  rule {
    id     = "expire-noncurrent-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    # Once every version under a key has expired, drop the lone delete marker as well.
    expiration {
      expired_object_delete_marker = true
    }
  }
}

data "aws_iam_policy_document" "bucket" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.images.arn,
      "${aws_s3_bucket.images.arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "images" {
  bucket = aws_s3_bucket.images.id
  policy = data.aws_iam_policy_document.bucket.json

  # A bucket policy cannot be written while the public access block is being created.
  depends_on = [aws_s3_bucket_public_access_block.images]
}

# --- DynamoDB ----------------------------------------------------------------------------

resource "aws_dynamodb_table" "images" {
  #checkov:skip=CKV_AWS_119:Encrypted at rest with the AWS managed key (aws/dynamodb); a customer managed CMK adds cost and key-policy management and is not required here.
  name         = var.table_name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"
  range_key    = "sk"

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  attribute {
    name = "sweep_pk"
    type = "S"
  }

  attribute {
    name = "sweep_sk"
    type = "S"
  }

  # Sparse index of images that are not READY, read by `python -m service sweep`. Its keys use
  # hash_key/range_key, which aws provider 6.29.0 deprecated in favour of key_schema blocks:
  # "~> 6.0" also admits 6.0-6.28, which have no key_schema, and the first releases with it
  # had open issues with range keys. Switch when the pin is raised to a release that has it
  # (a test enforces the pairing). The table's own hash_key/range_key are not deprecated.
  global_secondary_index {
    name            = "sweep"
    hash_key        = "sweep_pk"
    range_key       = "sweep_sk"
    projection_type = "KEYS_ONLY"
  }

  point_in_time_recovery {
    enabled = true
  }

  # Finished upload sessions remove themselves (service: table.py TTL_ATTRIBUTE).
  ttl {
    attribute_name = "ttl"
    enabled        = true
  }

  server_side_encryption {
    enabled = true
  }

  deletion_protection_enabled = var.deletion_protection
}

# --- What the service may do with them ---------------------------------------------------
# Shared by the Lambda function's role and the ECS task role: exactly the calls the service
# makes, on this bucket, this table and its indexes.

data "aws_iam_policy_document" "service_data_access" {
  statement {
    sid = "ImageObjects"
    actions = [
      "s3:PutObject",
      "s3:GetObject",
      "s3:DeleteObject",
    ]
    resources = [
      "${aws_s3_bucket.images.arn}/originals/*",
      "${aws_s3_bucket.images.arn}/renditions/*",
    ]
  }

  # Upload sessions: the client's presigned POST or parts land under incoming/ (signed with
  # these permissions), complete reads them there and copies them to originals/ (CopyObject is
  # GetObject on the source and PutObject on the destination), having first rewritten a large
  # upload that holds a location next to it (UploadPartCopy is authorized the same way).
  statement {
    sid = "IncomingUploads"
    actions = [
      "s3:PutObject",
      "s3:GetObject",
      "s3:DeleteObject",
      "s3:AbortMultipartUpload",
      "s3:ListMultipartUploadParts",
    ]
    resources = ["${aws_s3_bucket.images.arn}/incoming/*"]
  }

  # HeadBucket (readiness check) is authorized by s3:ListBucket, and so is ListObjectsV2 (the
  # renditions of a deleted image, orphans found by the sweeper). A prefix condition would
  # refuse HeadBucket, which names no prefix.
  statement {
    sid       = "ImageBucket"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.images.arn]
  }

  # TransactWriteItems is authorized per item by its action (the service writes Put, Update and
  # Delete items; a ConditionCheck item would need dynamodb:ConditionCheckItem).
  statement {
    sid = "ImageTable"
    actions = [
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:DeleteItem",
      "dynamodb:Query",
      "dynamodb:BatchGetItem",
      "dynamodb:DescribeTable",
    ]
    resources = [
      aws_dynamodb_table.images.arn,
      "${aws_dynamodb_table.images.arn}/index/*",
    ]
  }
}

# --- What the worker may do with them ----------------------------------------------------
# The worker (Lambda function or ECS service, each with a role of its own) processes finished
# uploads and new images: it reads the upload under incoming/ (spooling it while it hashes),
# completes or aborts its multipart upload (CompleteMultipartUpload and UploadPartCopy are
# authorized as PutObject, on the source as GetObject), copies it to originals/ and deletes it
# from incoming/; it reads originals and writes renditions. It deletes no original and lists
# incoming/ only. On the table it makes the API's calls (a test holds the two lists equal).

data "aws_iam_policy_document" "worker_data_access" {
  statement {
    sid = "IncomingUploads"
    actions = [
      "s3:GetObject",
      "s3:PutObject",
      "s3:DeleteObject",
      "s3:AbortMultipartUpload",
      "s3:ListMultipartUploadParts",
    ]
    resources = ["${aws_s3_bucket.images.arn}/incoming/*"]
  }

  # Whether a multipart upload's object exists yet (HeadObject): S3 answers a missing key with
  # 404 only to a caller that may list the bucket, with the key as s3:prefix, and with 403
  # otherwise, which the worker could not tell from a refusal. Listing incoming/ is enough.
  statement {
    sid       = "IncomingListing"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.images.arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["incoming/", "incoming/*"]
    }
  }

  statement {
    sid       = "Originals"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${aws_s3_bucket.images.arn}/originals/*"]
  }

  statement {
    sid       = "Renditions"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.images.arn}/renditions/*"]
  }

  statement {
    sid = "ImageTable"
    actions = [
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:DeleteItem",
      "dynamodb:Query",
      "dynamodb:BatchGetItem",
      "dynamodb:DescribeTable",
    ]
    resources = [
      aws_dynamodb_table.images.arn,
      "${aws_dynamodb_table.images.arn}/index/*",
    ]
  }
}
