"""The OpenAPI document (``/openapi.json``) and its Swagger UI page (``/docs``).

flask-smorest writes the document as blueprints are registered with its ``Api``, resolving every
view's schemas into JSON Schema: longer than the rest of making the app. Only these two pages
read it, so the service's app registers the API's blueprints with Flask alone, and the
document is written when it is first asked for, by an ``Api`` on a Flask app of its own that
holds the same blueprints only to describe them.

The Swagger UI page works with no internet: Swagger UI's files come from the pinned
flask-swagger-ui package (only its files: its blueprint's page has an inline script) and are
served from ``/docs/swagger-ui/``; the page's own script, which starts Swagger UI, is a file
too. The page's Content-Security-Policy allows nothing from another origin and no inline script.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import cache
from importlib.resources import files
from typing import Any

from apispec import BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.openapi import OpenAPIConverter
from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    send_from_directory,
    url_for,
)
from flask_smorest import Api
from marshmallow import fields, validate
from werkzeug.routing import BaseConverter

TITLE = "mPyCloud image service"
EXTENSION = "openapi_document"
# Swagger UI's files that the page loads: nothing else of the package is served.
SWAGGER_UI_FILES = frozenset({"swagger-ui-bundle.js", "swagger-ui.css", "index.css"})
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",  # Swagger UI's icons are data: URLs in its style sheet
        "connect-src 'self'",  # the document, and "Try it out"
        "form-action 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)
THUMBNAIL_PATH = "/images/{image_id}/thumbnail"

# Python's re and the document's regular expressions (ECMA 262, as JSON Schema reads them)
# agree on everything rules.py's patterns use but one class: ECMA's \w is ASCII only. Python's
# [^\W_] is exactly Unicode's letters and digits (str.isalnum: categories L and N).
_ECMA_SPELLINGS = ((r"[^\W_]", r"[\p{L}\p{N}]"), (r"\w", r"\p{L}\p{N}_"))

docs = Blueprint(
    "api-docs",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/docs/static",
)


def init_app(
    app: Flask,
    blueprints: Sequence[Blueprint],
    *,
    spec_options: dict[str, Any],
    rendition_sizes: tuple[int, ...],
    max_file_size: int,
) -> None:
    """Registers ``blueprints`` (flask-smorest's) and the two pages that describe them."""
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    app.register_blueprint(docs)
    limits = DeploymentLimits(rendition_sizes, max_file_size)
    app.extensions[EXTENSION] = OpenApiDocument(
        blueprints,
        converters=dict(app.url_map.converters),
        spec_options=spec_options,
        limits=limits,
    )


def document_of(app: Flask) -> OpenApiDocument:
    document: OpenApiDocument = app.extensions[EXTENSION]
    return document


@docs.get("/openapi.json")
def openapi_json() -> Response:
    return jsonify(document_of(current_app).get())


@docs.get("/docs")
def swagger_ui() -> str:
    return render_template("swagger_ui.html", title=TITLE, spec_url=url_for(".openapi_json"))


@docs.get("/docs/swagger-ui/<name>")
def swagger_ui_file(name: str) -> Response:
    if name not in SWAGGER_UI_FILES:
        abort(404)
    return send_from_directory(_swagger_ui_files(), name)


@cache
def _swagger_ui_files() -> str:
    return str(files("flask_swagger_ui").joinpath("dist"))


@docs.after_request
def _content_security_policy(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


class OpenApiDocument:
    """The document of the API's blueprints, written once, by whichever thread asks first."""

    def __init__(
        self,
        blueprints: Sequence[Blueprint],
        *,
        converters: dict[str, type[BaseConverter]],
        spec_options: dict[str, Any],
        limits: DeploymentLimits,
    ) -> None:
        self._blueprints = tuple(blueprints)
        self._converters = converters
        self._spec_options = spec_options
        self._limits = limits
        self._lock = threading.Lock()
        self._document: dict[str, Any] | None = None

    @property
    def written(self) -> bool:
        return self._document is not None

    def get(self) -> dict[str, Any]:
        with self._lock:
            if self._document is None:
                self._document = self._write()
            return self._document

    def _write(self) -> dict[str, Any]:
        describer = Flask(__name__)
        describer.config.update(
            API_TITLE=TITLE,
            API_VERSION="1.0",
            OPENAPI_VERSION="3.1.0",
            API_SPEC_OPTIONS=self._spec_options,
        )
        describer.url_map.converters.update(self._converters)
        api = Api(
            describer,
            spec_kwargs={"marshmallow_plugin": ImagePlugin(), "extra_plugins": [self._limits]},
        )
        for blueprint in self._blueprints:
            api.register_blueprint(blueprint)
        document: dict[str, Any] = api.spec.to_dict()
        return document


class DeploymentLimits(BasePlugin):
    """Two limits are settings (RENDITION_SIZES, MAX_FILE_SIZE): the document states this
    deployment's, where the schemas can only state the widest."""

    def __init__(self, rendition_sizes: tuple[int, ...], max_file_size: int) -> None:
        self._rendition_sizes = rendition_sizes
        self._max_file_size = max_file_size

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        if path != THUMBNAIL_PATH or not operations or not self._rendition_sizes:
            return
        for parameter in operations.get("get", {}).get("parameters", []):
            if parameter.get("name") == "size":
                parameter["schema"]["enum"] = list(self._rendition_sizes)

    def schema_helper(
        self, name: str, definition: dict[str, Any], **kwargs: Any
    ) -> dict[str, Any] | None:
        if name != "NewUpload":
            return None
        properties = definition["properties"]
        size = {**properties["size"], "maximum": self._max_file_size}
        return {"properties": {**properties, "size": size}}


def openapi_pattern(pattern: str) -> str:
    """A pattern of rules.py as the OpenAPI document spells it (``\\w`` only inside a class)."""
    for python, ecma in _ECMA_SPELLINGS:
        pattern = pattern.replace(python, ecma)
    return pattern


class ImageConverter(OpenAPIConverter):
    """Documents what the schemas' validators enforce and apispec leaves out or misnames:
    Regexp patterns in the document's dialect, a Dict's Length as maxProperties (not
    maxLength) and its keys' rules as propertyNames, and schema-level keywords from
    ``Meta.openapi``."""

    def init_attribute_functions(self) -> None:
        super().init_attribute_functions()  # type: ignore[no-untyped-call]
        self.attribute_functions.append(self.rules2properties)

    def rules2properties(
        self,
        field: fields.Field[Any],
        ret: dict[str, Any],
        **kwargs: Any,
    ) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        patterns = [v for v in field.validators if isinstance(v, validate.Regexp)]
        if patterns:
            extra["pattern"] = openapi_pattern(str(patterns[0].regex.pattern))
        elif "pattern" in field.metadata:
            extra["pattern"] = openapi_pattern(str(field.metadata["pattern"]))
        if isinstance(field, fields.Dict):
            for length, properties in (
                ("minLength", "minProperties"),
                ("maxLength", "maxProperties"),
            ):
                if length in ret:
                    extra[properties] = ret.pop(length)
            if field.key_field is not None:
                extra["propertyNames"] = self.field2property(field.key_field)
        return extra

    def schema2jsonschema(self, schema: Any) -> dict[str, Any]:
        jsonschema: dict[str, Any] = super().schema2jsonschema(schema)  # type: ignore[no-untyped-call]
        for keyword, value in getattr(getattr(schema, "Meta", None), "openapi", {}).items():
            is_field = isinstance(value, fields.Field)
            jsonschema[keyword] = self.field2property(value) if is_field else value
        return jsonschema


class ImagePlugin(MarshmallowPlugin):
    Converter = ImageConverter
