"""``make load``: locust's users on the API, with the mix of a photo-sharing client.

    make load                                    # make run's API, 16 users, 60 s
    make load LOAD_URL=http://127.0.0.1:8000     # any base URL (compose, a deployment)

Each user uploads and works on images of its own (``user_id`` of its own), so no user trips
over another's deletes. Weights: 70% listings and gets, 20% uploads, 10% PATCH and DELETE.
If the API asks for sign-in (``make run``'s default), every request carries an access token and
uploads leave the owner to it instead of naming a ``user_id``: ``TOKEN`` if exported, else one
for ``LOAD_TOKEN_USER`` (default user123) from ``make run``'s emulator, wherever it listens, or
``EMULATOR_URL``'s, as ``make token`` gets it. Elsewhere, export ``TOKEN``.
Every answer that is not the expected status counts as an error. At the end, besides locust's
own tables, one line gives requests/s, the 50th/95th/99th percentiles and the errors.
"""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
import uuid
from typing import Any

import requests
from locust import HttpUser, events, task
from PIL import Image

TAGS = ("nature", "sunset", "city", "people", "food", "travel", "night", "animals")


def small_jpegs(count: int = 16) -> list[bytes]:
    """A few small, distinct JPEGs (under 1 kB each), made once per process."""
    shots = []
    for n in range(count):
        out = io.BytesIO()
        colour = (n * 16 % 256, 96, 255 - n * 16 % 256)
        Image.new("RGB", (48, 32), colour).save(out, format="JPEG", quality=80)
        shots.append(out.getvalue())
    return shots


def unique(jpeg: bytes) -> bytes:
    """``jpeg`` with a comment segment holding a random id, right after its start marker: bytes
    of their own, so that duplicate detection (``DEDUPE=per-user``, the default) answers no
    upload with an image made before, as it would for users sharing one signed-in account."""
    comment = uuid.uuid4().hex.encode()
    return jpeg[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + jpeg[2:]


JPEGS = small_jpegs()
TOKEN = os.environ.get("TOKEN", "").strip()


def _sign_in_when_asked(environment: Any, **_: Any) -> None:
    """Without TOKEN, and if the API answers an anonymous listing 401, a token from the
    emulator's user pool; the run stops at once, saying why, if there is none to get."""
    global TOKEN
    if TOKEN:
        return
    probe = requests.get(f"{environment.host}/images", params={"limit": 1}, timeout=30)
    if probe.status_code != 401:
        return
    user = os.environ.get("LOAD_TOKEN_USER", "user123")
    # As make token: make run's emulator (or EMULATOR_URL's), not the shell's AWS endpoints.
    endpoints = ("AWS_ENDPOINT_URL", "COGNITO_ENDPOINT_URL")
    made = subprocess.run(  # noqa: S603 - this interpreter, the project's own command
        [sys.executable, "-m", "devtools", "dev-token", user],
        env={name: value for name, value in os.environ.items() if name not in endpoints},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if made.returncode != 0 or not made.stdout.strip():
        reason = (made.stderr.strip().splitlines() or ["(no output)"])[-1]
        print(
            f"{environment.host} asks for sign-in and no token came from make run's emulator: "
            f"export TOKEN=<an access token> and run again\n{reason}",
            file=sys.stderr,
            flush=True,
        )
        environment.process_exit_code = 2
        environment.runner.quit()
        return
    TOKEN = made.stdout.strip().splitlines()[-1]


class PhotoClient(HttpUser):
    """Lists and reads most of the time; uploads, edits and deletes its own images."""

    def on_start(self) -> None:
        # Signed in, the owner is the token's user: learnt from the first upload's answer.
        self.user_id = "" if TOKEN else f"load-{uuid.uuid4().hex[:12]}"
        if TOKEN:
            self.client.headers["Authorization"] = f"Bearer {TOKEN}"
        self.random = random.Random()  # noqa: S311 - picks test data, not secrets
        self.images: list[str] = []
        self.upload()

    # 70%: listings and gets ------------------------------------------------------------------
    @task(20)
    def list_own(self) -> None:
        self._expect(
            200, "GET", "/images", name="/images?user_id", params={"user_id": self.user_id}
        )

    @task(10)
    def list_by_tag(self) -> None:
        tag = self.random.choice(TAGS)
        self._expect(200, "GET", "/images", name="/images?tags", params={"tags": tag, "limit": 20})

    @task(5)
    def list_newest(self) -> None:
        self._expect(200, "GET", "/images", name="/images", params={"limit": 20})

    @task(25)
    def get_metadata(self) -> None:
        if image_id := self._one_of_mine():
            self._expect(200, "GET", f"/images/{image_id}", name="/images/{id}")

    @task(10)
    def get_download_link(self) -> None:
        if image_id := self._one_of_mine():
            self._expect(200, "GET", f"/images/{image_id}/download", name="/images/{id}/download")

    # 20%: uploads -----------------------------------------------------------------------------
    @task(20)
    def upload(self) -> None:
        tags = self.random.sample(TAGS, self.random.randint(1, 3))
        response = self._expect(
            201,
            "POST",
            "/images",
            name="/images (upload)",
            files={"image": ("photo.jpg", unique(self.random.choice(JPEGS)), "image/jpeg")},
            data={
                **({"user_id": self.user_id} if not TOKEN else {}),
                "description": "load test",
                "tags": json.dumps(tags),
            },
        )
        if response is not None:
            self.images.append(response["image_id"])
            self.user_id = response["user_id"]

    # 10%: PATCH and DELETE --------------------------------------------------------------------
    @task(6)
    def patch(self) -> None:
        if image_id := self._one_of_mine():
            change: dict[str, Any] = (
                {"tags": self.random.sample(TAGS, 2)}
                if self.random.random() < 0.5
                else {"description": f"edited {uuid.uuid4().hex[:6]}"}
            )
            self._expect(200, "PATCH", f"/images/{image_id}", name="/images/{id}", json=change)

    @task(4)
    def delete(self) -> None:
        if len(self.images) > 1:
            image_id = self.images.pop(self.random.randrange(len(self.images)))
            self._expect(204, "DELETE", f"/images/{image_id}", name="/images/{id}")

    def _one_of_mine(self) -> str | None:
        return self.random.choice(self.images) if self.images else None

    def _expect(self, status: int, method: str, path: str, **kwargs: Any) -> Any:
        with self.client.request(method, path, catch_response=True, **kwargs) as response:
            if response.status_code != status:
                response.failure(
                    f"{response.status_code} (expected {status}): {response.text[:200]}"
                )
                return None
            return response.json() if status != 204 else None


def _summary(environment: Any, **_: Any) -> None:
    total = environment.stats.total
    if not total.num_requests:
        return
    print(
        f"\nSUMMARY {total.num_requests} requests, {total.total_rps:.1f} requests/s, "
        f"p50 {total.get_response_time_percentile(0.5):.0f} ms, "
        f"p95 {total.get_response_time_percentile(0.95):.0f} ms, "
        f"p99 {total.get_response_time_percentile(0.99):.0f} ms, "
        f"errors {total.num_failures} ({100 * total.fail_ratio:.2f}%)",
        flush=True,
    )


events.test_start.add_listener(_sign_in_when_asked)  # type: ignore[no-untyped-call]
events.quitting.add_listener(_summary)  # type: ignore[no-untyped-call]  # locust is untyped
