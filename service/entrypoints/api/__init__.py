"""The HTTP API: flask-smorest blueprints and marshmallow schemas over the application services."""

from service.entrypoints.api.deferred_patterns import import_marshmallow

import_marshmallow()  # before any schema: see deferred_patterns
