"""Gunicorn settings of the container image:
``gunicorn -c python:service.entrypoints.gunicorn_conf``.

The GUNICORN_* / PORT variables are read and checked by :class:`service.settings.ServerSettings`:
a bad value stops gunicorn at start-up with the variable's name. The file system may be
read-only except for /tmp, hence ``worker_tmp_dir`` and no control socket.
"""

from __future__ import annotations

from typing import Any

from service.domain.rules import MAX_HEADER_FIELD_SIZE, MAX_HEADER_FIELDS, MAX_REQUEST_LINE
from service.entrypoints.api.body_deadline import BodyDeadline
from service.entrypoints.log import logging_config
from service.settings import ServerSettings, Settings

_server = ServerSettings.from_env()

bind = f"0.0.0.0:{_server.port}"
worker_class = _server.worker_class
workers = _server.workers
threads = _server.threads
timeout = _server.timeout
keepalive = 75  # seconds: above the ALB's 60 s idle timeout, so the ALB closes idle connections

# Bounded request lines and headers, with room for every request the OpenAPI document allows.
limit_request_line = MAX_REQUEST_LINE
limit_request_fields = MAX_HEADER_FIELDS
limit_request_field_size = MAX_HEADER_FIELD_SIZE

worker_tmp_dir = "/tmp"  # noqa: S108 - the one writable directory of the container
control_socket_disable = True  # it would be created under $HOME, which is read-only
# Load the app once in the master: workers share it, including a random CURSOR_SECRET.
preload_app = True

accesslog = "-"
errorlog = "-"
logconfig_dict = logging_config(Settings.from_env().log_level)


def post_worker_init(worker: Any) -> None:
    """A slow client cannot hold a worker thread: its body has GUNICORN_BODY_TIMEOUT seconds."""
    worker.wsgi = BodyDeadline(worker.wsgi, _server.body_timeout)
