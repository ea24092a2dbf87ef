"""Smoke test of a deployed service: GET <base URL>/health/ready until it answers ready.

    python3 scripts/smoke_check.py https://abc123.execute-api.us-east-1.amazonaws.com/

Exits 0 once the service answers 200 with ``{"status": "ready"}`` (the bucket and the table
answer), 1 if it has not after ``--attempts`` tries. A new Lambda or ECS deployment can take a
little while to answer, hence the retries. The deploy workflow runs it with the runner's
Python, so it uses the standard library only.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable


def readiness_url(base_url: str) -> str:
    return base_url.rstrip("/") + "/health/ready"


def check_once(url: str, timeout: float) -> tuple[bool, str]:
    """(ready, what was seen)."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        return False, f"HTTP {error.code}"
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        return False, f"no answer ({error})"
    try:
        document = json.loads(body)
    except ValueError:
        return False, f"HTTP {status} without JSON"
    if status == 200 and isinstance(document, dict) and document.get("status") == "ready":
        warnings = document.get("warnings")
        return True, f"ready{f', warnings: {warnings}' if warnings else ''}"
    return False, f"HTTP {status}: {body[:200]!r}"


def wait_until_ready(
    base_url: str,
    attempts: int,
    interval: float,
    timeout: float,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    url = readiness_url(base_url)
    for attempt in range(1, attempts + 1):
        ready, seen = check_once(url, timeout)
        print(f"{url}: {seen} (attempt {attempt} of {attempts})", flush=True)
        if ready:
            return True
        if attempt < attempts:
            sleep(interval)
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("base_url", help="the service's base URL (api_url or alb_url)")
    parser.add_argument("--attempts", type=int, default=20)
    parser.add_argument("--interval", type=float, default=6.0, help="seconds between attempts")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    args = parser.parse_args(argv)
    if not args.base_url.startswith(("http://", "https://")):
        parser.error("base_url must be an http(s) URL")
    if wait_until_ready(args.base_url, args.attempts, args.interval, args.timeout):
        return 0
    print(f"{readiness_url(args.base_url)} never answered ready", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
