# One image, two runtimes:
#   * ECS / docker / compose: gunicorn on $PORT (default 8000)      -> no AWS_LAMBDA_RUNTIME_API
#   * AWS Lambda (container image): awslambdaric + apig-wsgi        -> AWS_LAMBDA_RUNTIME_API set
#   * any command given as arguments runs instead (e.g. `python -m service create-resources`)
#
# Builds with Docker's classic builder as well as BuildKit (no RUN --mount, no heredocs), so
# testcontainers/docker-py can build it. Runs as a non-root user on a read-only root file
# system; only /tmp must be writable (gunicorn's worker heartbeat files, large upload spooling).
ARG PYTHON_IMAGE=python:3.13-slim

# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

# botocore carries the model of every AWS service, some 450 of them; the service's clients
# (service/bootstrap.py) use four, and boto3's credential providers may use sts, sso and
# sso-oidc: only those are kept (tests/unit/test_image_trim.py holds the list to the clients).
ARG AWS_MODELS="s3 dynamodb sqs cognito-idp sts sso sso-oidc"

COPY requirements.txt /tmp/requirements.txt
# Every dependency ships manylinux wheels for CPython 3.13 (awslambdaric included), so no
# compiler is needed; --only-binary keeps it that way. Bytecode is compiled here, once, with
# unchecked hashes: the image is immutable, and the read-only runtime could not write it anyway.
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-compile --only-binary=:all: \
        -r /tmp/requirements.txt awslambdaric==4.2.2 \
 && /opt/venv/bin/pip uninstall --yes pip \
 && cd /opt/venv/lib/python3*/site-packages/botocore/data \
 && for model in */; do \
        keep=; for name in $AWS_MODELS; do [ "${model%/}" != "$name" ] || keep=1; done; \
        [ -n "$keep" ] || rm -rf "$model"; \
    done \
 && cd / \
 && python -m compileall -q -j 0 --invalidation-mode unchecked-hash /opt/venv/lib \
 && chmod -R a+rX /opt/venv

COPY service/ /app/service/
COPY docker/entrypoint.sh docker/healthcheck.py /app/docker/
RUN find /app -name '__pycache__' -prune -exec rm -rf '{}' + \
 && python -m compileall -q -j 0 --invalidation-mode unchecked-hash /app/service /app/docker \
 && chmod -R a+rX /app \
 && chmod a+rx /app/docker/entrypoint.sh

# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

# PATH is spelled out in full: some base images do not declare one to extend.
ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PORT=8000

RUN useradd --system --uid 10001 --user-group --no-create-home --home-dir /tmp \
        --shell /usr/sbin/nologin app

COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app

WORKDIR /app
USER 10001:10001
EXPOSE 8000

# /tmp is the one writable path. ECS on Fargate mounts an empty task volume there that is owned
# by root (mode 755) unless the image declares the path a VOLUME: then Fargate copies the
# image's /tmp, mode 1777 included, and uid 10001 can write gunicorn's heartbeat files.
# (docker run without --tmpfs /tmp gets an anonymous volume: add --rm, or --tmpfs as below.)
VOLUME ["/tmp"]

# gunicorn mode only (Lambda ignores HEALTHCHECK; the script exits 0 under the runtime API).
# Written in Python: slim images have neither curl nor wget.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "/app/docker/healthcheck.py"]

ENTRYPOINT ["/bin/sh", "/app/docker/entrypoint.sh"]
