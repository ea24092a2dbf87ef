"""The base of every request and response schema of the API."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema


class ApiSchema(Schema):
    """A marshmallow Schema whose deep copy is itself.

    flask-smorest deep-copies a view's documentation at each of its decorators, and that
    documentation holds schema instances: copying them, fields and all, cost about 5 ms of a
    Lambda cold start. Nothing changes a schema instance once it is made (marshmallow 4 has no
    per-instance context; options are fixed in ``__init__``), so the copy can be the original.
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> ApiSchema:
        return self
