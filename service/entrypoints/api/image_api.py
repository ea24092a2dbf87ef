"""ImageApi: flask-smorest's Api with the service's error body and OpenAPI conventions."""

from __future__ import annotations

from typing import Any

from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.openapi import OpenAPIConverter
from flask import Flask
from flask_smorest import Api
from marshmallow import fields, validate
from werkzeug.exceptions import HTTPException

from service.entrypoints.api.errors import valid_unicode
from service.entrypoints.api.openapi import DeferredSpec

# Python's re and the document's regular expressions (ECMA 262, as JSON Schema reads them)
# agree on everything rules.py's patterns use but one class: ECMA's \w is ASCII only. Python's
# [^\W_] is exactly Unicode's letters and digits (str.isalnum: categories L and N).
_ECMA_SPELLINGS = ((r"[^\W_]", r"[\p{L}\p{N}]"), (r"\w", r"\p{L}\p{N}_"))


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


class ImageApi(DeferredSpec, Api):  # type: ignore[misc]
    """flask-smorest's Api, with a ``message`` in every error body (it omits it by default),
    the converter above, and its OpenAPI document built on first use (:class:`DeferredSpec`)."""

    def __init__(
        self,
        app: Flask | None = None,
        *,
        rendition_sizes: tuple[int, ...] = (),
        max_file_size: int | None = None,
        **kwargs: Any,
    ) -> None:
        self._rendition_sizes = rendition_sizes
        self._max_file_size = max_file_size
        super().__init__(app, **kwargs)

    def _build_spec(self) -> None:
        super()._build_spec()
        # Two limits are settings (RENDITION_SIZES, MAX_FILE_SIZE): the document states this
        # deployment's, where the schemas can only state the widest.
        thumbnail = self._spec._paths.get("/images/{image_id}/thumbnail", {}).get("get", {})
        for parameter in thumbnail.get("parameters", []):
            if parameter.get("name") == "size" and self._rendition_sizes:
                parameter["schema"]["enum"] = list(self._rendition_sizes)
        new_upload = self._spec.components.schemas.get("NewUpload")
        if new_upload is not None and self._max_file_size is not None:
            new_upload["properties"]["size"]["maximum"] = self._max_file_size

    def _init_spec(self, *, marshmallow_plugin: Any = None, **kwargs: Any) -> None:
        super()._init_spec(marshmallow_plugin=marshmallow_plugin or ImagePlugin(), **kwargs)

    def handle_http_exception(self, error: HTTPException) -> Any:
        payload, code, extra_headers = super().handle_http_exception(error)
        headers = dict(extra_headers or {})
        if code == 405:
            # werkzeug's Allow header, which flask-smorest's handler leaves out.
            headers.update((k, v) for k, v in error.get_headers() if k.lower() == "allow")
        if "message" not in payload:
            payload["message"] = (
                "Invalid request parameters" if "errors" in payload else error.description
            )
        return valid_unicode(payload), code, headers
