"""The use cases: what the service does with images, upload sessions and sign-ins, and the
limits it applies.

They reach S3, DynamoDB, Pillow and the identity provider only through the Protocols of
``service.ports``. They import one another, the ports and the domain: not the adapters (the two
packages are independent), the settings or the entry points, and no web framework, AWS SDK or
imaging library.
"""
