"""JSON-lines logging with a per-request id, for gunicorn, Lambda and ``make run`` alike."""

from __future__ import annotations

import contextvars
import logging
import logging.config
from typing import Any

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
client_request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar(
    "client_request_id", default="-"
)


class RequestIdFilter(logging.Filter):
    """Stamps every record with the ids of the request being served (or ``-``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.client_request_id = client_request_id_var.get()
        return True


def logging_config(level: str = "INFO") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` document; gunicorn takes it as ``logconfig_dict``."""
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "json",
        "filters": ["request_id"],
        "stream": "ext://sys.stdout",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": (
                    "%(asctime)s %(levelname)s %(name)s %(request_id)s %(client_request_id)s "
                    "%(message)s"
                ),
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            }
        },
        "handlers": {"stdout": handler},
        "root": {"level": level, "handlers": ["stdout"]},
        "loggers": {
            "gunicorn.error": {"level": level, "handlers": ["stdout"], "propagate": False},
            "gunicorn.access": {"level": level, "handlers": ["stdout"], "propagate": False},
            "botocore": {"level": "WARNING"},
            "urllib3": {"level": "WARNING"},
        },
    }


def configure_logging(level: str = "INFO") -> None:
    logging.config.dictConfig(logging_config(level))
