"""The adapters: the Protocols of ``service.ports`` on S3, DynamoDB (``dynamodb``), Pillow,
PyJWT and Cognito, each around an injected client.

They import the ports and the domain; never the use cases (the two packages are independent),
the settings, the wiring or the entry points. Only ``service.bootstrap`` builds them.
"""
