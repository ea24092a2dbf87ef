"""Dev-only tools: the embedded emulator (``emulator``, moto's server with its DynamoDB
transactions corrected), ``make run`` (``run_local``) and ``make token`` (``dev_tokens``), as
``python -m devtools {run-local,dev-token}``.

They may import the service; nothing in the service or the client imports them, and the service's
image leaves them out (.dockerignore; the emulator's own image copies ``emulator`` alone).
"""
