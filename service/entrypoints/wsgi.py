"""WSGI entry point:
``gunicorn -c python:service.entrypoints.gunicorn_conf service.entrypoints.wsgi:app``."""

from __future__ import annotations

from service.entrypoints.start_up import collector_paused

with collector_paused():  # before gunicorn forks its workers (preload_app)
    from service.bootstrap import preload_libraries
    from service.entrypoints.app import create_app

    app = create_app()
    preload_libraries()
