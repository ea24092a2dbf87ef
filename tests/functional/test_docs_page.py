"""/docs, Swagger UI, works with no internet: its assets come from a pinned PyPI package
(flask-swagger-ui) and are served by the app, under a Content-Security-Policy that allows
nothing from elsewhere and no inline script."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from flask.testing import FlaskClient

POLICY = {
    "default-src": "'none'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "form-action": "'none'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
}


class Tags(HTMLParser):
    """Every tag of a page with its attributes, and whether a script has a body."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline_script = False
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_script = True


def parsed(html: str) -> Tags:
    tags = Tags()
    tags.feed(html)
    return tags


def test_the_page_has_a_strict_policy_and_no_inline_script(client: FlaskClient) -> None:
    page = client.get("/docs")
    html = page.get_data(as_text=True)

    assert page.status_code == 200
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in page.headers["Content-Security-Policy"].split(";")
    )
    assert policy == POLICY
    tags = parsed(html)
    assert not tags.inline_script
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers
    assert "//" not in html.replace("<!DOCTYPE", "")  # no URL of another site


def test_every_asset_the_page_names_is_served_by_the_app(client: FlaskClient) -> None:
    tags = parsed(client.get("/docs").get_data(as_text=True))
    assets = [a["src"] for t, a in tags.tags if t == "script"] + [
        a["href"] for t, a in tags.tags if t == "link" and a.get("rel") == "stylesheet"
    ]

    assert len(assets) >= 3  # Swagger UI's script and style sheet, and the page's own script
    served: dict[str, bytes] = {}
    for url in assets:
        assert url is not None
        assert url.startswith("/docs/"), url
        with client.get(url) as answer:
            assert answer.status_code == 200, url
            assert answer.mimetype in ("text/javascript", "text/css"), url
            served[url.rsplit("/", 1)[-1]] = answer.data
    assert b"SwaggerUIBundle" in served["swagger-ui-bundle.js"]
    assert b"SwaggerUIBundle(" in served["swagger-ui-init.js"]


def test_the_page_names_the_document(client: FlaskClient) -> None:
    tags = parsed(client.get("/docs").get_data(as_text=True))

    [root] = [a for t, a in tags.tags if a.get("id") == "swagger-ui"]
    assert root["data-spec-url"] == "/openapi.json"


@pytest.mark.parametrize(
    "path", ["/docs/swagger-ui/index.html", "/docs/swagger-ui/../openapi.py", "/docs/swagger-ui/"]
)
def test_only_the_assets_the_page_uses_are_served(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code == 404
