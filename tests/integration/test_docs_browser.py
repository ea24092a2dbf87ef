"""/docs in a real browser (tests/integration/browser.py) with nothing reachable but the
service: Swagger UI's files are the service's own, and the page lists every operation of the
OpenAPI document. A screenshot goes to the test's temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from playwright.sync_api import Route, expect

from tests.integration.browser import browser_page, problems_of, signed_in_gallery

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.xdist_group("integration")]

METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def test_the_docs_page_lists_every_operation_offline(moto_server: str, tmp_path: Path) -> None:
    with (
        signed_in_gallery(moto_server, tmp_path, ()) as stack,
        browser_page(tmp_path / "profile") as page,
    ):
        document = requests.get(f"{stack.base_url}/openapi.json", timeout=30).json()
        operations = sum(len(METHODS & set(item)) for item in document["paths"].values())
        problems = problems_of(page)
        elsewhere: list[str] = []

        def this_service_only(route: Route) -> None:
            if route.request.url.startswith(f"{stack.base_url}/"):
                route.continue_()
            else:
                elsewhere.append(route.request.url)
                route.abort()

        page.route("**/*", this_service_only)
        page.goto(f"{stack.base_url}/docs")

        upload = page.locator(".opblock-post", has=page.locator('[data-path="/images"]'))
        expect(upload).to_be_visible()
        expect(page.locator(".opblock")).to_have_count(operations)
        page.screenshot(path=tmp_path / "docs.png", full_page=True)

    assert (tmp_path / "docs.png").stat().st_size > 0
    assert elsewhere == []
    # No script error, no Content-Security-Policy violation, no failed request.
    assert problems == []
