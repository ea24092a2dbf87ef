"""WSGI entry point: ``gunicorn -c python:service.gunicorn_conf service.wsgi:app``."""

from __future__ import annotations

from service.app import create_app

app = create_app()
