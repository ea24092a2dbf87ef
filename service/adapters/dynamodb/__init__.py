"""The ImageRepository, UploadSessionRepository and IdempotencyStore on one DynamoDB table: its
definition, how its keys and items are spelled, listings and conditional writes.

An adapter like the others: may import the ports, the domain and the adapters' shared modules
(``aws_errors``); never the use cases, the settings or the entry points.
"""
