"""``Endpoints``: every endpoint of the service, one method each, answers as dataclasses."""

from __future__ import annotations

import json

from mpycloud.image_endpoints import ImageEndpoints
from mpycloud.models import Health, Json
from mpycloud.upload_session_endpoints import UploadSessionEndpoints


class Endpoints(ImageEndpoints, UploadSessionEndpoints):
    """The image and upload-session endpoints, and the service's own."""

    def health(self) -> Health:
        return Health(**self.call("GET", "/health").json())

    def ready(self) -> Health:
        return Health(**self.call("GET", "/health/ready").json())

    def openapi(self) -> Json:
        document: Json = json.loads(self.call("GET", "/openapi.json").content)
        return document
