#!/bin/sh
# Entry point of the mPyCloud image.
#
#   (no arguments), AWS_LAMBDA_RUNTIME_API set  -> the Lambda runtime interface client
#   (no arguments), otherwise                   -> gunicorn on $PORT
#   one argument naming a handler, under Lambda -> that handler (a Lambda ImageConfig.Command)
#   any other arguments                         -> run them (e.g. python -m service create-resources)
set -eu

if [ -n "${AWS_LAMBDA_RUNTIME_API:-}" ]; then
    if [ "$#" -eq 0 ]; then
        exec python -m awslambdaric service.entrypoints.lambda_handler.handler
    fi
    if [ "$#" -eq 1 ] && ! command -v "$1" >/dev/null 2>&1; then
        exec python -m awslambdaric "$1"
    fi
fi

if [ "$#" -gt 0 ]; then
    exec "$@"
fi

exec gunicorn --config python:service.entrypoints.gunicorn_conf --worker-tmp-dir /tmp \
    service.entrypoints.wsgi:app
