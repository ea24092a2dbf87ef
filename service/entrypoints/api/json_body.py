"""The one JSON reader of every request body, JSON form field and query value.

``json.loads`` raises RecursionError on JSON nested past Python's recursion limit, and a bare
ValueError on an integer of more digits than Python converts; JSON nested within that limit
but deeply can still exhaust it later, when the document is written out again (the
Idempotency-Key's request hash) or walked. Here all of that is ``JsonBeyondLimits``, a
ValueError: a 422 in the one error shape. The app reads request bodies through it
(``JsonProvider``, Flask's public hook), and so do the API's argument parser (``JsonParser``)
and the gallery's upload script's endpoints (``request.get_json``).
"""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

from flask import Request
from flask.json.provider import DefaultJSONProvider
from webargs import core
from webargs.flaskparser import FlaskParser, abort, is_json_request

from service.domain.errors import InvalidInput

# Far deeper than any document the API takes (a batch's metadata is 4 levels down).
MAX_DEPTH = 32


class JsonBeyondLimits(ValueError):
    """Valid JSON, but nested deeper than MAX_DEPTH or holding an integer of more digits than
    Python converts."""


def json_value(text: str | bytes, **kwargs: Any) -> Any:
    """``json.loads``; what is beyond the limits raises JsonBeyondLimits. Malformed JSON still
    raises ``json.JSONDecodeError``, bytes that are not UTF-8 UnicodeDecodeError."""
    try:
        value = json.loads(text, **kwargs)
    except RecursionError:
        raise JsonBeyondLimits(f"JSON nested more than {MAX_DEPTH} levels deep") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise
    except ValueError:
        digits = sys.get_int_max_str_digits()
        raise JsonBeyondLimits(f"a JSON number has more than {digits} digits") from None
    if _deeper_than(value, MAX_DEPTH):
        raise JsonBeyondLimits(f"JSON nested more than {MAX_DEPTH} levels deep")
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    # Walked without recursion: the point is not to need the stack.
    pending = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            if depth == limit:
                return True
            pending.extend((child, depth + 1) for child in item)
    return False


class JsonProvider(DefaultJSONProvider):
    """Flask's JSON, reading through ``json_value``: ``request.get_json`` anywhere."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return json_value(s, **kwargs)


class JsonRequest(Request):
    """A body ``get_json`` cannot read: beyond the limits a 422, otherwise a 400; both in the
    error handlers' one shape."""

    def on_json_loading_failed(self, e: ValueError | None) -> NoReturn:
        if e is None:  # not a JSON content type: Flask's 415
            super().on_json_loading_failed(e)
        if isinstance(e, JsonBeyondLimits):
            raise InvalidInput(f"The JSON body is beyond its limits: {e}", {"json": [str(e)]})
        abort(400, exc=e, messages={"json": ["Invalid JSON body."]})


class JsonParser(FlaskParser):
    """webargs' Flask parser reading a JSON body with ``request.get_json``."""

    def load_json(self, req: Request, schema: Any) -> Any:
        if not is_json_request(req) or not req.get_data(cache=True):
            return core.missing  # no JSON body at all, as webargs has it
        return req.get_json()
