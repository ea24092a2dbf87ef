"""The HTTP API: flask-smorest blueprints and marshmallow schemas over the use cases.

Views parse a request with a schema, call one use case and dump its answer; the status of each
domain error is in ``errors``, who the caller is in ``auth``. Like every entry point it may
import the layers below (use cases, ports, domain, settings); the gallery (``web``) builds on
it, and it never imports the gallery.
"""
