"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from service.entrypoints.api.context import image_service
from service.entrypoints.api.image_schemas import HealthSchema

blp = Blueprint("health", __name__, url_prefix="/health", description="Health checks")


@blp.route("")
class Liveness(MethodView):
    @blp.response(200, HealthSchema)
    @blp.doc(security=[])
    def get(self) -> dict[str, str]:
        """The process answers"""
        return {"status": "ok"}


@blp.route("/ready")
class Readiness(MethodView):
    @blp.response(200, HealthSchema)
    @blp.doc(security=[])
    def get(self) -> dict[str, Any]:
        """The bucket and the table answer (503 otherwise); ``warnings`` names unsafe settings"""
        image_service().check_ready()
        warnings = current_app.config.get("READINESS_WARNINGS", [])
        return {"status": "ready", **({"warnings": warnings} if warnings else {})}
