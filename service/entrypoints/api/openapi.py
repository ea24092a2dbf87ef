"""The OpenAPI document, built on first use rather than at start-up."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask
from flask_smorest import Blueprint
from flask_smorest.spec import APISpecMixin, openapi_cli


class DeferredSpec:
    """A mixin for flask-smorest's ``Api``: the OpenAPI document is built when first read.

    flask-smorest builds the document as the app is made: its plugins, then every view's
    schemas resolved into it. Only ``/openapi.json``, ``/docs`` and ``flask openapi`` read it,
    so here it is built the first time ``spec`` is read (once, whichever thread asks first),
    and a cold start that serves other requests never pays for it. The document is the same.
    """

    _app: Flask

    def __init__(self, app: Flask | None = None, **kwargs: Any) -> None:
        self._spec: Any = None
        self._spec_options: dict[str, Any] | None = None
        self._spec_blueprints: list[tuple[Blueprint, str, Any]] = []
        self._spec_ready = False
        self._spec_building = False
        self._spec_lock = threading.RLock()
        super().__init__(app, **kwargs)  # type: ignore[call-arg]

    @property
    def spec(self) -> Any:
        if not self._spec_ready:
            with self._spec_lock:
                # The building thread reads ``spec`` too while it builds: it gets the part
                # built so far. Other threads wait on the lock for the whole document.
                if not self._spec_ready and not self._spec_building:
                    self._build_spec()
        return self._spec

    @spec.setter
    def spec(self, value: Any) -> None:
        self._spec = value

    def _init_spec(self, **options: Any) -> None:
        """Called by ``Api.init_app``: keep the options; the document is built on first use."""
        self._spec_options = options
        self._app.cli.add_command(openapi_cli)

    def register_blueprint(self, blp: Blueprint, *, parameters: Any = None, **options: Any) -> None:
        """flask-smorest's ``register_blueprint``, with the blueprint documented later."""
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        with self._spec_lock:
            self._spec_blueprints.append((blp, name, parameters))
            if self._spec_ready:
                self._document_blueprints()

    def _build_spec(self) -> None:
        if self._spec_options is None:  # init_app has not run: nothing to build yet
            return
        self._spec_building = True
        try:
            APISpecMixin._init_spec(self, **self._spec_options)
            self._document_blueprints()
        finally:
            self._spec_building = False
        self._spec_ready = True

    def _document_blueprints(self) -> None:
        while self._spec_blueprints:
            blp, name, parameters = self._spec_blueprints.pop(0)
            blp.register_views_in_doc(self, self._app, self._spec, name=name, parameters=parameters)
            self._spec.tag({"name": name, "description": blp.description})
