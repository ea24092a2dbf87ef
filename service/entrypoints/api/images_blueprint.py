"""ImagesBlueprint: a multipart upload parsed by ONE schema, form fields and files together.

flask-smorest turns one ``@blp.arguments`` into the OpenAPI 3 request body; stacking a "form"
and a "files" argument documents the text fields as OpenAPI 2 ``formData`` parameters instead.
Here the "files" location reads the files and the form fields, so one schema describes the
whole ``multipart/form-data`` body.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Request
from flask_smorest import Blueprint
from webargs import core
from webargs.flaskparser import FlaskParser, abort, is_json_request
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import CombinedMultiDict

from service.entrypoints.api.input_fields import json_value


class ImagesParser(FlaskParser):
    def load_files(self, req: Request, schema: Any) -> MultiDictProxy:
        return MultiDictProxy(CombinedMultiDict([req.files, req.form]), schema)

    def load_querystring(self, req: Request, schema: Any) -> MultiDictProxy:
        # A scalar given twice (limit=1&limit=2) is refused, not read first-wins.
        proxy = MultiDictProxy(req.args, schema)
        repeated = sorted(
            name
            for name in req.args
            if name not in proxy.multiple_keys and len(req.args.getlist(name)) > 1
        )
        if repeated:
            abort(
                400,
                message=f"Parameter given more than once: {', '.join(repeated)}",
                errors={"query": {name: ["given more than once"] for name in repeated}},
            )
        return proxy

    def load_json(self, req: Request, schema: Any) -> Any:
        # A JSON body Python cannot hold (deep nesting, a huge integer) is a 422, not a 500.
        if not is_json_request(req):
            return core.missing
        try:
            return json_value(req.get_data(cache=True).decode("utf-8"))
        except ValueError as error:  # not JSON, or not UTF-8
            if isinstance(error, json.JSONDecodeError) and not error.doc:
                return core.missing  # no body at all, as webargs has it
            abort(400, exc=error, messages={"json": ["Invalid JSON body."]})


class ImagesBlueprint(Blueprint):  # type: ignore[misc]
    ARGUMENTS_PARSER = ImagesParser()
