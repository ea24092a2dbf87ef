# The embedded S3 + DynamoDB of `make run` as an image, for docker-compose.moto.yml: moto's
# server with the corrections of devtools/emulator.py (serialised requests, journaled
# transaction rollback, ClientRequestToken). In memory only; listens on port 4566.
#
#   docker build -f docker/emulator.Dockerfile -t mpycloud-emulator:local .
#
# Builds with Docker's classic builder as well as BuildKit (no RUN --mount, no heredocs).
ARG PYTHON_IMAGE=python:3.13-slim
FROM ${PYTHON_IMAGE}

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app

COPY requirements-emulator.txt /tmp/requirements-emulator.txt
RUN pip install -r /tmp/requirements-emulator.txt

# devtools/emulator.py needs moto alone: nothing else of the service or the dev tools comes along.
COPY devtools/__init__.py devtools/emulator.py /app/devtools/
RUN python -m compileall -q --invalidation-mode unchecked-hash /app/devtools \
 && chmod -R a+rX /app

WORKDIR /app
USER nobody
EXPOSE 4566
HEALTHCHECK --interval=2s --timeout=5s --start-period=5s --retries=30 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:4566/moto-api/', timeout=4)"]
ENTRYPOINT ["python", "-m", "devtools.emulator", "-H", "0.0.0.0", "-p", "4566"]
