"""WSGI entry point: ``gunicorn -c python:service.gunicorn_conf service.wsgi:app``."""

from __future__ import annotations

from service.start_up import collector_paused

with collector_paused():  # before gunicorn forks its workers (preload_app)
    from service.app import create_app
    from service.bootstrap import preload_libraries

    app = create_app()
    preload_libraries()
