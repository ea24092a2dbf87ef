"""WSGI entry point: ``gunicorn -c python:service.gunicorn_conf service.wsgi:app``."""

from __future__ import annotations

from service.app import create_app
from service.bootstrap import preload_libraries

app = create_app()
preload_libraries()
