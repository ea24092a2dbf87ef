"""The gallery's pages: the grid (and its next tiles), an image's page and its actions.

Each page is one call of the image service, a listing or one image read, and an image's page
one more for its similar photos. Views parse, call, render; errors become pages in
``security``.
"""

from __future__ import annotations

from typing import Any

from flask import Response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from service.domain import rules
from service.domain.errors import InvalidCursor, InvalidInput, PreconditionFailed
from service.domain.model import ACCEPTED_CONTENT_TYPES, Image, ImageChanges
from service.entrypoints.api import inputs
from service.entrypoints.api.auth import caller
from service.entrypoints.api.context import image_service
from service.entrypoints.web.blueprint import bp
from service.entrypoints.web.browse import Browse
from service.entrypoints.web.identity import sign_in_enabled, viewer
from service.entrypoints.web.photo_details import camera_name, capture_moment, moment


@bp.context_processor
def _page_context() -> dict[str, Any]:
    who = caller()
    return {
        "viewer": viewer(),
        "sign_in_enabled": sign_in_enabled(),
        "may_upload": who.signed_in,
        "small_size": min(image_service().rendition_sizes),
    }


@bp.get("/")
def grid() -> Any:
    browse = Browse.from_args(request.args)
    try:
        result = image_service().search(caller(), browse.query(), browse.cursor)
    except (InvalidInput, InvalidCursor) as error:
        page = render_template(
            "grid.html", browse=browse, images=[], problem=error.message, **_choices()
        )
        return page, 422 if isinstance(error, InvalidInput) else 400
    more = result.next_cursor
    return render_template(
        "grid.html",
        browse=browse,
        images=result.items,
        next_page=url_for("web.grid", **browse.url_args(more)) if more else None,
        next_tiles=url_for("web.tiles", **browse.url_args(more)) if more else None,
        **_choices(),
    )


@bp.get("/tiles")
def tiles() -> Any:
    """The next tiles of the grid, for its infinite scroll; the page after in headers."""
    browse = Browse.from_args(request.args)
    result = image_service().search(caller(), browse.query(), browse.cursor)
    response = Response(render_template("_tiles.html", images=result.items))
    if result.next_cursor:
        response.headers["X-Next-Tiles"] = url_for(
            "web.tiles", **browse.url_args(result.next_cursor)
        )
        response.headers["X-Next-Page"] = url_for("web.grid", **browse.url_args(result.next_cursor))
    return response


@bp.get("/photos/<image_id>")
def photo(image_id: str) -> Any:
    return _photo_page(image_service().get(caller(), image_id))


@bp.post("/photos/<image_id>/tags")
def edit_tags(image_id: str) -> Any:
    service = image_service()
    try:
        tags = rules.tags([t for t in request.form.get("tags", "").split(",") if t.strip()])
        service.update(caller(), image_id, ImageChanges(tags=tags), _version())
    except (InvalidInput, PreconditionFailed) as error:
        status = 412 if isinstance(error, PreconditionFailed) else 422
        return _photo_page(service.get(caller(), image_id), problem=error.message), status
    return redirect(url_for("web.photo", image_id=image_id))


@bp.post("/photos/<image_id>/delete")
def delete(image_id: str) -> Any:
    image_service().delete(caller(), image_id, _version())
    return redirect(url_for("web.grid"))


@bp.get("/photos/<image_id>/download")
def download(image_id: str) -> Any:
    response = redirect(image_service().download_link(caller(), image_id).url)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/photos/<image_id>/rendition/<int:size>")
def rendition(image_id: str, size: int) -> Any:
    """302 to the stored rendition (made on first request), as the API's thumbnail."""
    service = image_service()
    ref = service.rendition_ref(caller(), image_id, size, "auto", inputs.accepted_formats(request))
    response: BaseResponse
    if ref.etag in request.if_none_match:
        response = Response(status=304)
    else:
        link = service.thumbnail(caller(), ref)
        response = redirect(link.url)
        response.headers["Cache-Control"] = f"private, max-age={link.cache_seconds}"
    response.set_etag(ref.etag)
    response.headers["Vary"] = "Accept, Cookie"
    return response


def _photo_page(image: Image, problem: str | None = None) -> str:
    service = image_service()
    who = caller()
    large = max(service.rendition_sizes)
    scale = min(1.0, large / max(image.width, image.height, 1))
    return render_template(
        "photo.html",
        image=image,
        problem=problem,
        may_change=service.may_change(who, image),
        location=image.location if service.sees_location(who, image) else None,
        large=large,
        shown=(round(image.width * scale), round(image.height * scale)),
        uploaded=moment(image.created_at),
        changed=moment(image.updated_at) if image.updated_at != image.created_at else None,
        camera=camera_name(image.exif) if image.exif else None,
        taken=capture_moment(image.exif) if image.exif else None,
        similar=[near.image for near in service.similar(who, image.image_id)],
    )


def _choices() -> dict[str, Any]:
    return {"content_types": ACCEPTED_CONTENT_TYPES}


def _version() -> int | None:
    """The version the form was made from: a change made meanwhile is refused (412)."""
    given = request.form.get("version", "")
    if not given:
        return None
    if not given.isdigit():
        raise InvalidInput("version must be a number", {"version": ["a number"]})
    return int(given)
