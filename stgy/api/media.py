"""Native API: media uploads, their state and alt text; and local media files at /media/."""

from __future__ import annotations

from quart import Blueprint, Response, jsonify, request, send_file
from quart_schema import DataSource, document_request, hide

from stgy.api import schemas
from stgy.api.serializers import media_json
from stgy.domain.errors import Invalid, NotFound, UnsupportedMedia
from stgy.domain.media import uploads
from stgy.http.context import require_viewer, services
from stgy.http.validation import json_body, parse_id, responds
from storage.blobs import CACHE_CONTROL, LocalBlobStore, content_type_of

bp = Blueprint("media", __name__, url_prefix="/api")
files_bp = Blueprint("media_files", __name__)

UPLOAD_PATH = "/api/media"
# Room for the multipart framing and the text fields around the file.
UPLOAD_OVERHEAD = 64 * 1024
_FIELDS = ("description", "focus", "purpose")
ONE_YEAR = 365 * 24 * 3600


@bp.post("/media")
@document_request(schemas.MediaUploadForm, source=DataSource.FORM_MULTIPART)
@responds(schemas.MediaOut, 201)
@responds(schemas.MediaOut, 202)
@schemas.fails_with(400, 401, 413, 415, 422)
async def upload() -> tuple[Response, int]:
    """Upload an image: 201 when processed at once, 202 while a job makes its renditions."""
    viewer = await require_viewer()
    if request.mimetype != "multipart/form-data":
        raise UnsupportedMedia(
            f"send multipart/form-data with a `file` part (got {request.mimetype or 'none'!r})"
        )
    form = await request.form
    files = await request.files
    for name in form:
        if name not in _FIELDS:
            raise Invalid(name, "unknown field")
        if len(form.getlist(name)) > 1:
            raise Invalid(name, "given twice")
    for name in files:
        if name != "file":
            raise Invalid(name, "unknown field")
    if len(files.getlist("file")) != 1:
        raise Invalid("file", "required, once (an image file)")
    part = files["file"]
    limit = services().config.limits.media_bytes
    data = part.read(limit + 1)
    found = await uploads.upload(
        services(),
        viewer.account_id,
        uploads.Upload(
            data=data,
            declared_type=part.mimetype or None,
            description=form.get("description", ""),
            focus=form.get("focus"),
            purpose=form.get("purpose", "attachment"),
        ),
    )
    return jsonify(media_json(found)), 201 if found.state == "ready" else 202


@bp.get("/media/<media_id>")
@responds(schemas.MediaOut)
@schemas.fails_with(401, 404)
async def get_media(media_id: str) -> Response:
    """One of your uploads: its state (processing, ready, failed) and URLs."""
    viewer = await require_viewer()
    found = await uploads.get_own(services(), viewer.account_id, parse_id(media_id, "media"))
    return jsonify(media_json(found))


@bp.patch("/media/<media_id>")
@json_body(schemas.MediaEditIn)
@responds(schemas.MediaOut)
@schemas.fails_with(400, 401, 404)
async def edit_media(media_id: str, body: schemas.MediaEditIn) -> Response:
    """Change the alt text or focal point of one of your uploads (attached ones too)."""
    viewer = await require_viewer()
    found = await uploads.describe(
        services(),
        viewer.account_id,
        parse_id(media_id, "media"),
        description=body.description,
        focus=body.focus,
    )
    return jsonify(media_json(found))


@files_bp.get("/media/<path:key>")
@hide
async def media_file(key: str) -> Response:
    """A stored rendition (local storage only): content type by extension, ETag, 304s."""
    blobs = services().blobs
    found = blobs.find(key) if isinstance(blobs, LocalBlobStore) else None
    if found is None:
        raise NotFound("no such media file")
    response = await send_file(
        found.path, mimetype=content_type_of(key), add_etags=False, cache_timeout=ONE_YEAR
    )
    response.set_etag(found.etag)
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["X-Content-Type-Options"] = "nosniff"
    await response.make_conditional(request, accept_ranges=True, complete_length=found.size)
    return response
