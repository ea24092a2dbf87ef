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
from service.api.auth import caller
from service.api.context import image_service
from service.api.idempotency import HEADER_PARAMETER, idempotent
from service.api.parsing import ImagesBlueprint
from service.api.schemas import (
    BatchResultsSchema,
    BatchSchema,
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
WRITE_ERRORS = (
    HTTPStatus.BAD_REQUEST,
    HTTPStatus.UNAUTHORIZED,
    HTTPStatus.FORBIDDEN,
    HTTPStatus.NOT_FOUND,
    HTTPStatus.CONFLICT,
    HTTPStatus.PRECONDITION_FAILED,
)

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
    @documents_errors(
        HTTPStatus.BAD_REQUEST, HTTPStatus.UNAUTHORIZED, HTTPStatus.SERVICE_UNAVAILABLE
    )
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List images, newest first, filtered by user, tags, content type and dates"""
        if "ids" in args:
            images = image_service().get_many(caller(), inputs.image_ids(args))
            return {"items": [image.to_dict() for image in images], "next_cursor": None}
        query, cursor = inputs.image_query(args)
        result = image_service().search(caller(), query, cursor)
        return {
            "items": [image.to_dict() for image in result.items],
            "next_cursor": result.next_cursor,
        }

    @idempotent
    @blp.doc(parameters=[HEADER_PARAMETER])
    @blp.arguments(UploadSchema, location="files", unknown=INCLUDE)
    @blp.response(201, ImageSchema)
    @blp.alt_response(
        200, schema=ImageSchema, description="The same bytes are already one of the user's images"
    )
    @documents_errors(
        HTTPStatus.BAD_REQUEST,
        HTTPStatus.UNAUTHORIZED,
        HTTPStatus.FORBIDDEN,
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
        HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
        HTTPStatus.SERVICE_UNAVAILABLE,
    )
    def post(self, form: dict[str, Any]) -> Any:
        """Upload an image with its metadata"""
        upload: FileStorage = form["image"]
        published = image_service().upload(
            caller(), inputs.new_image(form, upload), cast(BinaryIO, upload.stream)
        )
        image = published.image
        location = url_for("images.ImageById", image_id=image.image_id)
        headers = {"Location": location, "ETag": inputs.etag(image)}
        if published.duplicate:
            return image.to_dict() | {"duplicate_of": image.image_id}, 200, headers
        return image.to_dict(), 201, headers


@blp.route("/batch")
class ImageBatch(MethodView):
    @blp.arguments(BatchSchema)
    @blp.response(200, BatchResultsSchema)
    @documents_errors(HTTPStatus.UNAUTHORIZED, HTTPStatus.UNPROCESSABLE_ENTITY)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """One action (delete, add_tags, remove_tags) on up to 100 images, a result for each"""
        results = image_service().batch(caller(), inputs.batch_action(body))
        return {"results": results}


@blp.route("/<image_id>", parameters=[IMAGE_ID])
class ImageById(MethodView):
    @blp.response(200, ImageSchema)
    @documents_errors(HTTPStatus.BAD_REQUEST, HTTPStatus.UNAUTHORIZED, HTTPStatus.NOT_FOUND)
    def get(self, image_id: str) -> Any:
        """Get an image's metadata (its ETag is the version that If-Match names)"""
        image = image_service().get(caller(), image_id)
        return image.to_dict(), 200, {"ETag": inputs.etag(image)}

    @blp.arguments(ImageChangesSchema)
    @blp.response(200, ImageSchema)
    @documents_errors(*WRITE_ERRORS)
    def patch(self, changes: dict[str, Any], image_id: str) -> Any:
        """Change description, tags or custom metadata (never the image bytes); owner only"""
        image = image_service().update(
            caller(), image_id, inputs.image_changes(changes), inputs.if_match(request)
        )
        return image.to_dict(), 200, {"ETag": inputs.etag(image)}

    @blp.response(204)
    @documents_errors(*WRITE_ERRORS)
    def delete(self, image_id: str) -> None:
        """Delete an image and its metadata; owner only"""
        image_service().delete(caller(), image_id, inputs.if_match(request))


@blp.route("/<image_id>/download", parameters=[IMAGE_ID])
class ImageDownload(MethodView):
    @blp.arguments(DownloadQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, DownloadLinkSchema)
    @blp.alt_response(302, description="Redirect to the presigned URL (?redirect=true)")
    @documents_errors(HTTPStatus.BAD_REQUEST, HTTPStatus.UNAUTHORIZED, HTTPStatus.NOT_FOUND)
    def get(self, args: dict[str, Any], image_id: str) -> Any:
        """A presigned S3 URL to download the original bytes"""
        link = image_service().download_link(caller(), image_id)
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
    @documents_errors(HTTPStatus.BAD_REQUEST, HTTPStatus.UNAUTHORIZED, HTTPStatus.NOT_FOUND)
    def get(self, args: dict[str, Any], image_id: str) -> Any:
        """A small re-encoded copy of the image, served by the API itself"""
        thumbnail = image_service().thumbnail(caller(), image_id, args["size"])
        response = Response(thumbnail.data, mimetype=thumbnail.content_type)
        # An id's bytes never change, so neither does its thumbnail of a given size.
        response.set_etag(f"{image_id}-{args['size']}")
        response.headers["Cache-Control"] = "private, max-age=86400"
        response.headers["Content-Disposition"] = "inline"
        return response.make_conditional(request)
