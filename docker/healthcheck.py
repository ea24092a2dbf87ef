"""Docker HEALTHCHECK for gunicorn mode: GET http://127.0.0.1:$PORT/health must answer 2xx.

The image's other modes serve no HTTP port: under Lambda the runtime checks the function, and a
container running a command of its own (the worker, ``python -m service worker``) is healthy
while that process runs, which Docker sees for itself.
"""

import os
import sys
import urllib.request


def serves_http() -> bool:
    """Whether the container's main process is gunicorn (the entry point's default)."""
    try:
        with open("/proc/1/cmdline", "rb") as cmdline:
            return b"gunicorn" in cmdline.read()
    except OSError:
        return True


if os.environ.get("AWS_LAMBDA_RUNTIME_API") or not serves_http():
    sys.exit(0)

url = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/health"
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
try:
    with opener.open(url, timeout=4) as response:
        sys.exit(0 if 200 <= response.status < 300 else 1)
except OSError as error:
    print(f"healthcheck {url}: {error}", file=sys.stderr)
    sys.exit(1)
