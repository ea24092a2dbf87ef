"""Docker HEALTHCHECK for gunicorn mode: GET http://127.0.0.1:$PORT/health must answer 2xx."""

import os
import sys
import urllib.request

if os.environ.get("AWS_LAMBDA_RUNTIME_API"):
    sys.exit(0)  # Lambda mode serves no HTTP port; Lambda ignores HEALTHCHECK anyway.

url = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/health"
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
try:
    with opener.open(url, timeout=4) as response:
        sys.exit(0 if 200 <= response.status < 300 else 1)
except OSError as error:
    print(f"healthcheck {url}: {error}", file=sys.stderr)
    sys.exit(1)
