"""The /images endpoints. Views parse with a schema, call one service method, and return."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any, BinaryIO, TypeVar, cast

from flask import Response, jsonify, redirect, request, url_for
from flask.views import MethodView
from marshmallow import INCLUDE, RAISE
from werkzeug.datastructures import FileStorage

from service.domain.model import IMAGE_ID_PATTERN
from service.entrypoints.api import inputs
from service.entrypoints.api.auth import caller
from service.entrypoints.api.context import image_service
from service.entrypoints.api.idempotency import HEADER_PARAMETER, idempotent
from service.entrypoints.api.image_schemas import (
    BatchResultsSchema,
    BatchSchema,
    DownloadLinkSchema,
    DownloadQuerySchema,
    ImageChangesSchema,
    ImageListSchema,
    ImageQuerySchema,
    ImageSchema,
    RenditionLinkSchema,
    SimilarImagesSchema,
    ThumbnailQuerySchema,
    UploadSchema,
)
from service.entrypoints.api.images_blueprint import ImagesBlueprint
from service.entrypoints.api.shown import shown

F = TypeVar("F", bound=Callable[..., Any])
READ_ERRORS = (
    HTTPStatus.BAD_REQUEST,
    HTTPStatus.UNAUTHORIZED,
    HTTPStatus.NOT_FOUND,
    HTTPStatus.SERVICE_UNAVAILABLE,
)
WRITE_ERRORS = (
    *READ_ERRORS,
    HTTPStatus.FORBIDDEN,
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
            return {"items": [shown(image) for image in images], "next_cursor": None}
        query, cursor = inputs.image_query(args)
        result = image_service().search(caller(), query, cursor)
        return {
            "items": [shown(image) for image in result.items],
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
            return shown(image, duplicate=True), 200, headers
        return shown(image), 201, headers


@blp.route("/batch")
class ImageBatch(MethodView):
    @blp.arguments(BatchSchema)
    @blp.response(200, BatchResultsSchema)
    @documents_errors(
        HTTPStatus.UNAUTHORIZED,
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
        HTTPStatus.UNPROCESSABLE_ENTITY,
        HTTPStatus.SERVICE_UNAVAILABLE,
    )
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """One action (delete, add_tags, remove_tags) on up to 100 images, a result for each"""
        results = image_service().batch(caller(), inputs.batch_action(body))
        return {"results": results}


@blp.route("/<image_id:image_id>", parameters=[IMAGE_ID])
class ImageById(MethodView):
    @blp.response(200, ImageSchema)
    @documents_errors(*READ_ERRORS)
    def get(self, image_id: str) -> Any:
        """Get an image's metadata (its ETag is the version that If-Match names)"""
        image = image_service().get(caller(), image_id)
        return shown(image), 200, {"ETag": inputs.etag(image)}

    @blp.arguments(ImageChangesSchema)
    @blp.response(200, ImageSchema)
    @documents_errors(*WRITE_ERRORS, HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    def patch(self, changes: dict[str, Any], image_id: str) -> Any:
        """Change description, tags or custom metadata (never the image bytes); owner only"""
        image = image_service().update(
            caller(), image_id, inputs.image_changes(changes), inputs.if_match(request)
        )
        return shown(image), 200, {"ETag": inputs.etag(image)}

    @blp.response(204)
    @documents_errors(*WRITE_ERRORS)
    def delete(self, image_id: str) -> None:
        """Delete an image and its metadata; owner only"""
        image_service().delete(caller(), image_id, inputs.if_match(request))


@blp.route("/<image_id:image_id>/similar", parameters=[IMAGE_ID])
class SimilarImages(MethodView):
    @blp.response(200, SimilarImagesSchema)
    @documents_errors(*READ_ERRORS)
    def get(self, image_id: str) -> dict[str, Any]:
        """The caller's own images that look like this one: resized or re-encoded copies,
        nearest first"""
        near = image_service().similar(caller(), image_id)
        return {"items": [{"distance": n.distance, "image": shown(n.image)} for n in near]}


@blp.route("/<image_id:image_id>/download", parameters=[IMAGE_ID])
class ImageDownload(MethodView):
    @blp.arguments(DownloadQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, DownloadLinkSchema)
    @blp.alt_response(302, description="Redirect to the presigned URL (?redirect=true)")
    @documents_errors(*READ_ERRORS)
    def get(self, args: dict[str, Any], image_id: str) -> Any:
        """A presigned S3 URL to download the original bytes"""
        link = image_service().download_link(caller(), image_id)
        if args["redirect"]:
            response = redirect(link.url, code=302)
            response.headers["Cache-Control"] = "no-store"
            return response
        return link, 200, {"Cache-Control": "no-store"}


@blp.route("/<image_id:image_id>/thumbnail", parameters=[IMAGE_ID])
class ImageThumbnail(MethodView):
    @blp.arguments(ThumbnailQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, RenditionLinkSchema, description="The URL, with ?redirect=false")
    @blp.alt_response(302, description="Redirect to a presigned URL of the stored rendition")
    @blp.alt_response(304, description="If-None-Match names this rendition")
    @documents_errors(*READ_ERRORS, HTTPStatus.UNPROCESSABLE_ENTITY)
    def get(self, args: dict[str, Any], image_id: str) -> Any:
        """A rendition (upright, sRGB, no metadata), made once and kept: 302 to its bytes"""
        service = image_service()
        who = caller()
        ref = service.rendition_ref(
            who, image_id, args.get("size"), args["format"], inputs.accepted_formats(request)
        )
        headers = {"Vary": "Accept"} if args["format"] == "auto" else {}
        # Checked before anything is read: the rendition of an id, size and format never
        # changes, so a client holding it needs nothing more.
        if ref.etag in request.if_none_match:
            not_modified = Response(status=304, headers=headers)
            not_modified.set_etag(ref.etag)
            return not_modified
        link = service.thumbnail(who, ref)
        cache = f"private, max-age={link.cache_seconds}"
        response: Any
        if args["redirect"]:
            response = redirect(link.url, code=302)
        else:
            response = jsonify(RenditionLinkSchema().dump(link))
        response.headers.update(headers)
        response.headers["Cache-Control"] = cache
        response.set_etag(ref.etag)
        return response
