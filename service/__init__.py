"""mPyCloud's image service: an API on S3 + DynamoDB, in packages by layer.

Each imports only what lies below it (import-linter contracts in pyproject.toml; the module map
is docs/architecture.md):

- ``__main__``, then ``entrypoints``: what starts the service (the Flask app with its API and
  gallery, WSGI, Lambda, ``python -m service``);
- ``bootstrap``: builds the adapters and the use cases from ``settings``, the only reader of
  the environment;
- ``usecases`` and ``adapters``, independent of each other: what the service does, through the
  Protocols in ``ports``; and those Protocols on S3, DynamoDB, Pillow, PyJWT and Cognito;
- ``ports``, then ``domain``: value types, input rules, errors, who may do what. No I/O.

Nothing here imports the dev tools (``devtools``, outside the image) or the client.
"""
