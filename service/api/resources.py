"""The /images endpoints. Views parse with a schema, call one service method, and return."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any, BinaryIO, TypeVar, cast

from flask import Response, redirect, request, url_for
from flask.views import MethodView
from marshmallow import INCLUDE, RAISE
from werkzeug.datastructures import FileStorage

from service.api import inputs
from service.api.context import image_service
from service.api.parsing import ImagesBlueprint
from service.api.schemas import (
    DownloadLinkSchema,
    DownloadQuerySchema,
    ImageChangesSchema,
    ImageListSchema,
    ImageQuerySchema,
    ImageSchema,
    ThumbnailQuerySchema,
    UploadSchema,
)
from service.model import IMAGE_ID_PATTERN

F = TypeVar("F", bound=Callable[..., Any])

blp = ImagesBlueprint("images", __name__, url_prefix="/images", description="Images and metadata")

IMAGE_ID = {
    "in": "path",
    "name": "image_id",
    "description": "the image's id (a ULID)",
    "schema": {"type": "string", "pattern": f"^{IMAGE_ID_PATTERN.pattern}$"},
}


def documents_errors(*statuses: HTTPStatus) -> Callable[[F], F]:
    """Lists the error answers of a view in the OpenAPI document (body: the error schema)."""

    def decorate(view: F) -> F:
        for status in statuses:
            view = blp.alt_response(status.value, response=status.name)(view)
        return view

    return decorate


@blp.route("")
class Images(MethodView):
    @blp.arguments(ImageQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, ImageListSchema)
    @documents_errors(HTTPStatus.BAD_REQUEST, HTTPStatus.SERVICE_UNAVAILABLE)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List images, newest first, filtered by user, tags, content type and dates"""
        query, cursor = inputs.image_query(args)
        result = image_service().search(query, cursor)
        return {
            "items": [image.to_dict() for image in result.items],
            "next_cursor": result.next_cursor,
        }

    @blp.arguments(UploadSchema, location="files", unknown=INCLUDE)
    @blp.response(201, ImageSchema)
    @documents_errors(
        HTTPStatus.BAD_REQUEST,
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
        HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
        HTTPStatus.SERVICE_UNAVAILABLE,
    )
    def post(self, form: dict[str, Any]) -> Any:
        """Upload an image with its metadata"""
        upload: FileStorage = form["image"]
        image = image_service().upload(
            inputs.new_image(form, upload), cast(BinaryIO, upload.stream)
        )
        location = url_for("images.ImageById", image_id=image.image_id)
        return image.to_dict(), 201, {"Location": location}


@blp.route("/<image_id>", parameters=[IMAGE_ID])
class ImageById(MethodView):
    @blp.response(200, ImageSchema)
    @documents_errors(HTTPStatus.BAD_REQUEST, HTTPStatus.NOT_FOUND)
    def get(self, image_id: str) -> dict[str, Any]:
        """Get an image's metadata"""
        return image_service().get(image_id).to_dict()

    @blp.arguments(ImageChangesSchema)
    @blp.response(200, ImageSchema)
    @documents_errors(HTTPStatus.BAD_REQUEST, HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT)
    def patch(self, changes: dict[str, Any], image_id: str) -> dict[str, Any]:
        """Change description, tags or custom metadata (never the image bytes)"""
        return image_service().update(image_id, inputs.image_changes(changes)).to_dict()

    @blp.response(204)
    @documents_errors(HTTPStatus.BAD_REQUEST, HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT)
    def delete(self, image_id: str) -> None:
        """Delete an image and its metadata"""
        image_service().delete(image_id)


@blp.route("/<image_id>/download", parameters=[IMAGE_ID])
class ImageDownload(MethodView):
    @blp.arguments(DownloadQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, DownloadLinkSchema)
    @blp.alt_response(302, description="Redirect to the presigned URL (?redirect=true)")
    @documents_errors(HTTPStatus.BAD_REQUEST, HTTPStatus.NOT_FOUND)
    def get(self, args: dict[str, Any], image_id: str) -> Any:
        """A presigned S3 URL to download the original bytes"""
        link = image_service().download_link(image_id)
        if args["redirect"]:
            response = redirect(link.url, code=302)
            response.headers["Cache-Control"] = "no-store"
            return response
        return (
            {"download_url": link.url, "expires_in": link.expires_in},
            200,
            {"Cache-Control": "no-store"},
        )


BINARY_IMAGE = {"schema": {"type": "string", "format": "binary"}}


@blp.route("/<image_id>/thumbnail", parameters=[IMAGE_ID])
class ImageThumbnail(MethodView):
    @blp.arguments(ThumbnailQuerySchema, location="query", unknown=RAISE)
    @blp.doc(
        responses={
            "200": {
                "description": "JPEG (PNG when the image has transparency), no metadata",
                "content": {"image/jpeg": BINARY_IMAGE, "image/png": BINARY_IMAGE},
            }
        }
    )
    @documents_errors(HTTPStatus.BAD_REQUEST, HTTPStatus.NOT_FOUND)
    def get(self, args: dict[str, Any], image_id: str) -> Any:
        """A small re-encoded copy of the image, served by the API itself"""
        thumbnail = image_service().thumbnail(image_id, args["size"])
        response = Response(thumbnail.data, mimetype=thumbnail.content_type)
        # An id's bytes never change, so neither does its thumbnail of a given size.
        response.set_etag(f"{image_id}-{args['size']}")
        response.headers["Cache-Control"] = "private, max-age=86400"
        response.headers["Content-Disposition"] = "inline"
        return response.make_conditional(request)
