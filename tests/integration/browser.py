"""The gallery in a real browser: Debian's headless Chromium driven by Playwright, against
gunicorn serving the app on moto's server (S3, DynamoDB and Cognito) with sign-in on.

Without Chromium the tests are skipped; with REQUIRE_BROWSER=1 (``.ci/run``) they fail instead.
Playwright only drives the browser: its own browser downloads are never used.
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image as PILImage
from playwright.sync_api import Page, expect, sync_playwright

from devtools.dev_tokens import DEV_PASSWORD
from tests.integration.processes import Stack, gunicorn_serving, gunicorn_stack

# The machine has no network to speak of: Chromium must not try to reach Google's services.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> Path:
    found = shutil.which("chromium")
    if found is None:
        reason = "no chromium on PATH (apt-get install chromium)"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    return Path(found)


@contextmanager
def signed_in_gallery(
    moto_server: str, folder: Path, users: tuple[str, ...], **settings: str
) -> Iterator[Stack]:
    """gunicorn with sign-in on, trusting moto's Cognito pool, in which ``users`` exist (their
    password: DEV_PASSWORD); ``settings`` add to the service's environment."""
    chromium()  # skip (or fail) before starting anything
    stack = gunicorn_stack(moto_server, "gallery", folder / "gunicorn.log", **settings)
    auth_env = folder / "auth.env"
    created = stack.run("create-resources", "--auth-env", str(auth_env))
    assert created.returncode == 0, created.stderr
    auth = dict(line.split("=", 1) for line in auth_env.read_text().splitlines() if line)
    stack = replace(stack, env=stack.env | auth)
    for user in users:
        made = stack.run("dev-token", user)  # makes the user, whose password is DEV_PASSWORD
        assert made.returncode == 0, made.stderr
    with gunicorn_serving(stack):
        yield stack


@contextmanager
def browser_page(profile: Path, **options: Any) -> Iterator[Page]:
    """A page of a fresh Chromium profile; ``options`` as Playwright's context takes them
    (viewport, timezone_id, locale)."""
    executable = chromium()
    options.setdefault("viewport", {"width": 1280, "height": 900})
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(executable),
            headless=True,
            args=CHROMIUM_ARGS,
            **options,
        )
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


def gradient_jpeg(size: tuple[int, int], start: str, end: str) -> bytes:
    """A JPEG fading from ``start`` (top left) to ``end``: a placeholder worth looking at."""
    mask = PILImage.linear_gradient("L").rotate(45, expand=True).resize(size)
    picture = PILImage.composite(
        PILImage.new("RGB", size, end), PILImage.new("RGB", size, start), mask
    )
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def sign_in(page: Page, gallery: str, user: str) -> None:
    page.goto(f"{gallery}/sign-in")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", DEV_PASSWORD)
    page.click("form.sign-in button[type=submit]")
    expect(page.locator("#viewer")).to_have_text(user)


def problems_of(page: Page) -> list[str]:
    """Script errors, Content-Security-Policy violations and failed requests of ``page``, as
    they happen."""
    problems: list[str] = []
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "response",
        lambda answer: (
            problems.append(f"{answer.status} {answer.url}") if answer.status >= 400 else None
        ),
    )
    return problems
