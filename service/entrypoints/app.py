"""create_app: the one wiring point of the HTTP service."""

from __future__ import annotations

import logging

from flask import Flask, request

from service.bootstrap import (
    build_idempotency_store,
    build_image_service,
    build_sign_in,
    build_token_verifier,
    build_upload_service,
)
from service.domain.rules import FORM_MEMORY_BYTES, FORM_OVERHEAD_BYTES, MAX_JSON_BODY_BYTES
from service.entrypoints import web
from service.entrypoints.api import (
    auth,
    health_endpoints,
    idempotency,
    image_endpoints,
    openapi,
    request_ids,
    session_endpoints,
)
from service.entrypoints.api.context import EXTENSION, UPLOAD_ENDPOINT, UPLOADS_EXTENSION
from service.entrypoints.api.error_handlers import register_error_handlers
from service.entrypoints.api.forms import ImageRequest
from service.entrypoints.api.image_ids import ImageIdConverter
from service.entrypoints.api.json_body import JsonProvider
from service.ports import CredentialExchange, IdempotencyStore, TokenVerifier
from service.settings import Settings
from service.usecases.images import ImageService
from service.usecases.sign_in import SignInService
from service.usecases.upload_sessions import UploadService

log = logging.getLogger(__name__)

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
    app = Flask(__name__, static_folder=None)  # the gallery serves its own (/assets)
    app.request_class = ImageRequest
    app.json = JsonProvider(app)
    direct = min(settings.max_file_size, settings.max_direct_upload_size)
    upload_limit = direct + FORM_OVERHEAD_BYTES
    if settings.max_request_body is not None:
        upload_limit = min(upload_limit, settings.max_request_body)
    app.config.update(
        # Every body but an upload's is JSON: _limit_bodies raises the cap for uploads only.
        MAX_CONTENT_LENGTH=MAX_JSON_BODY_BYTES,
        MAX_FORM_MEMORY_SIZE=FORM_MEMORY_BYTES,
    )
    images = app.extensions[EXTENSION] = image_service or build_image_service(settings)
    app.extensions[UPLOADS_EXTENSION] = upload_service or build_upload_service(settings, images)
    app.extensions[idempotency.EXTENSION] = idempotency_store or build_idempotency_store(settings)
    app.json.sort_keys = False
    app.url_map.converters["image_id"] = ImageIdConverter
    openapi.init_app(
        app,
        (image_endpoints.blp, session_endpoints.blp, health_endpoints.blp),
        spec_options=_security(settings),
        rendition_sizes=settings.rendition_sizes,
        max_file_size=settings.max_file_size,
    )
    register_error_handlers(app, sessions_take_more=upload_limit < settings.max_file_size)
    _limit_bodies(app, upload_limit)
    request_ids.init_app(app)
    sign_in: SignInService | None = None
    if settings.auth_mode == "none":
        auth.init_app(app, None)
        app.config["READINESS_WARNINGS"] = [AUTH_NONE_WARNING]
        log.warning(AUTH_NONE_WARNING)
    else:
        verifier = token_verifier or build_token_verifier(settings)
        auth.init_app(app, verifier, anonymous_reads=settings.public_read)
        sign_in = (
            SignInService(credentials, verifier, token_use=settings.auth_token_use)
            if credentials is not None
            else build_sign_in(settings, verifier)
        )
    web.init_app(app, settings, sign_in)
    if settings.cursor_secret is None:
        log.warning("CURSOR_SECRET is not set: cursors only work within this process")
    return app


def _limit_bodies(app: Flask, upload_limit: int) -> None:
    @app.before_request
    def _upload_limit() -> None:
        # Before any view reads the body; werkzeug answers 413 from Content-Length alone.
        if request.endpoint == UPLOAD_ENDPOINT and request.method == "POST":
            request.max_content_length = upload_limit


def _security(settings: Settings) -> dict[str, object]:
    """With sign-in, every operation needs a bearer token unless it says otherwise (health:
    none); with AUTH_MODE=none, none does."""
    if settings.auth_mode == "none":
        return {}
    scheme = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    return {
        "security": [{auth.BEARER_SCHEME: []}],
        "components": {"securitySchemes": {auth.BEARER_SCHEME: scheme}},
    }
