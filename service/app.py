"""create_app: the one wiring point of the HTTP service."""

from __future__ import annotations

import logging

from flask import Flask

from service import web
from service.api import auth, health, idempotency, request_ids, resources, uploads
from service.api.context import EXTENSION, UPLOADS_EXTENSION
from service.api.errors import ImageApi, register_error_handlers
from service.bootstrap import (
    build_idempotency_store,
    build_image_service,
    build_sessions,
    build_token_verifier,
    build_upload_service,
)
from service.images import ImageService
from service.ports import CredentialExchange, IdempotencyStore, TokenVerifier
from service.sessions import SessionService
from service.settings import Settings
from service.uploads import UploadService

log = logging.getLogger(__name__)

# Room for the multipart framing and the text fields around the file.
FORM_OVERHEAD_BYTES = 64 * 1024
FORM_MEMORY_BYTES = 256 * 1024


AUTH_NONE_WARNING = (
    "AUTH_MODE=none: no sign-in; any client may change or delete any image (local use only)"
)


def create_app(
    settings: Settings | None = None,
    image_service: ImageService | None = None,
    token_verifier: TokenVerifier | None = None,
    upload_service: UploadService | None = None,
    idempotency_store: IdempotencyStore | None = None,
    credentials: CredentialExchange | None = None,
) -> Flask:
    """Services and adapters not given are built from ``settings``; ``credentials`` is the
    gallery's sign-in (Cognito's by default)."""
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    body_limit = settings.max_file_size + FORM_OVERHEAD_BYTES
    if settings.max_request_body is not None:
        body_limit = min(body_limit, settings.max_request_body)
    app.config.update(
        API_TITLE="mPyCloud image service",
        API_VERSION="1.0",
        OPENAPI_VERSION="3.0.3",
        # Every operation needs a bearer token unless it says otherwise (health: none).
        # Given as options, not through api.spec: the document is built on first read.
        API_SPEC_OPTIONS={
            "security": [{auth.BEARER_SCHEME: []}],
            "components": {
                "securitySchemes": {
                    auth.BEARER_SCHEME: {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
                }
            },
        },
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/",
        MAX_CONTENT_LENGTH=body_limit,
        # Text fields are small and the file part is spooled to a temporary file. werkzeug
        # applies this cap to its parse buffer too (leftover + one 64 KiB read), so it must
        # stay well above 64 KiB or valid uploads get a random 413.
        MAX_FORM_MEMORY_SIZE=FORM_MEMORY_BYTES,
    )
    images = app.extensions[EXTENSION] = image_service or build_image_service(settings)
    app.extensions[UPLOADS_EXTENSION] = upload_service or build_upload_service(settings, images)
    app.extensions[idempotency.EXTENSION] = idempotency_store or build_idempotency_store(settings)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    api = ImageApi(app)
    api.register_blueprint(resources.blp)
    api.register_blueprint(uploads.blp)
    api.register_blueprint(health.blp)
    register_error_handlers(app, body_limit, lambda_limit=settings.max_request_body is not None)
    request_ids.init_app(app)
    sessions: SessionService | None = None
    if settings.auth_mode == "none":
        auth.init_app(app, None)
        app.config["READINESS_WARNINGS"] = [AUTH_NONE_WARNING]
        log.warning(AUTH_NONE_WARNING)
    else:
        verifier = token_verifier or build_token_verifier(settings)
        auth.init_app(app, verifier)
        sessions = (
            SessionService(credentials, verifier, token_use=settings.auth_token_use)
            if credentials is not None
            else build_sessions(settings, verifier)
        )
    web.init_app(app, settings, sessions)
    if settings.cursor_secret is None:
        log.warning("CURSOR_SECRET is not set: cursors only work within this process")
    return app
