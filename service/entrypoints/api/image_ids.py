"""The URL converter of an image id in a path."""

from __future__ import annotations

from werkzeug.routing import BaseConverter

# Names of routes beside /images/{image_id}: never an image id (ids are 26 characters), so a
# method those routes do not take is a 405 rather than a request about an image named so.
SIBLING_ROUTES = ("batch",)


class ImageIdConverter(BaseConverter):
    """Any path segment but a sibling route's name. A malformed id still reaches the view,
    which answers 400 saying so."""

    regex = rf"(?!(?:{'|'.join(SIBLING_ROUTES)})(?:/|$))[^/]+"
