"""AWS Lambda entry points: ``python -m awslambdaric service.entrypoints.lambda_handler.handler``.

apig-wsgi turns API Gateway REST (payload 1.0), HTTP API (payload 2.0) and ALB events into
WSGI requests and the responses back, base64-encoding binary bodies; see
``service.entrypoints.api.stage``.
``sweep_handler`` is the scheduled clean-up (the same image, another ImageConfig.Command).
"""

from __future__ import annotations

from typing import Any

from service.entrypoints.start_up import collector_paused

with collector_paused():
    from msgspec.structs import asdict

    from service.entrypoints.api.context import EXTENSION, UPLOADS_EXTENSION
    from service.entrypoints.api.stage import make_handler
    from service.entrypoints.app import create_app
    from service.entrypoints.log import configure_logging
    from service.settings import Settings

    settings = Settings.from_env()
    configure_logging(settings.log_level)
    app = create_app(settings)
    handler = make_handler(app)


def sweep_handler(event: Any, context: Any) -> dict[str, int]:
    """Remove leftovers of interrupted uploads and finish interrupted deletes."""
    report = asdict(app.extensions[EXTENSION].sweep())
    return report | {"expired_uploads": app.extensions[UPLOADS_EXTENSION].sweep()}
