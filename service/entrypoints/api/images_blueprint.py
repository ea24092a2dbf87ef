"""ImagesBlueprint, the API's blueprint: a multipart upload parsed by ONE schema, form fields
and files together, and a JSON body read by the app's one JSON reader (``json_body``).

flask-smorest turns one ``@blp.arguments`` into the OpenAPI 3 request body; stacking a "form"
and a "files" argument documents the text fields as OpenAPI 2 ``formData`` parameters instead.
Here the "files" location reads the files and the form fields, so one schema describes the
whole ``multipart/form-data`` body.
"""

from __future__ import annotations

from typing import Any

from flask import Request
from flask_smorest import Blueprint
from webargs.flaskparser import abort
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import CombinedMultiDict

from service.entrypoints.api.json_body import JsonParser


class ImagesParser(JsonParser):
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


class ImagesBlueprint(Blueprint):  # type: ignore[misc]
    ARGUMENTS_PARSER = ImagesParser()
