"""The domain: images, upload sessions and queries as value types, the input rules, the errors,
who may do what, signed cursors and the rules of idempotent retries. Plain data, no I/O.

Imports nothing of the service outside this package, and no web framework, AWS SDK or imaging
library (flask, werkzeug, marshmallow, boto3, botocore, PIL, blurhash).
"""
