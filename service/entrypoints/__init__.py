"""The entry points: the Flask app (``app``, with the HTTP API in ``api`` and the gallery in
``web``), the WSGI and Lambda handlers, gunicorn's settings, ``python -m service`` (``cli``),
logging, start-up and provisioning of the bucket, table and emulator user pool.

They may import every layer below them (bootstrap, settings, use cases, adapters, ports,
domain); only ``service.__main__`` imports them.
"""
