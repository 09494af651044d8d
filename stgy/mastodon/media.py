"""Media uploads as Mastodon apps make them: POST /api/v2/media (and the legacy v1, which
waits for the processing), GET and PUT /api/v1/media/:id. The same domain calls as the
native API's uploads (stgy/api/media.py)."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response, jsonify, request

from stgy.domain.errors import Invalid, NotFound, TooLarge, UnsupportedMedia
from stgy.domain.media import uploads
from stgy.http.context import config, services
from stgy.mastodon.auth import current_viewer, scoped
from stgy.mastodon.params import id_param, read_params, text_param
from stgy.mastodon.status_entities import media_attachment_entity
from storage.media import Media

bp = Blueprint("mastodon_media", __name__, url_prefix="/api")

# The paths whose bodies may be as large as an upload (stgy/app.py body_limit).
UPLOAD_PATHS = ("/api/v1/media", "/api/v1/media/", "/api/v2/media", "/api/v2/media/")


def _entity(media: Media) -> dict[str, Any]:
    return media_attachment_entity(media, config().media.small_size)


def _reason(exc: TooLarge | UnsupportedMedia) -> str:
    detail = exc.detail
    if isinstance(detail, dict) and isinstance(detail.get("reason"), str):
        return str(detail["reason"])
    return str(detail or exc.error)


async def _upload() -> Media:
    """Check and store the upload; Mastodon answers a refused file 422 (our native API:
    413 for too large, 415 for a type it does not take)."""
    viewer = current_viewer()
    params = await read_params()
    files = await request.files if request.mimetype == "multipart/form-data" else None
    part = files.get("file") if files is not None else None
    if part is None:
        raise Invalid("file", "can't be blank (send multipart/form-data with a `file` part)")
    limit = services().config.limits.media_bytes
    data = part.read(limit + 1)
    try:
        return await uploads.upload(
            services(),
            viewer.account_id,
            uploads.Upload(
                data=data,
                declared_type=part.mimetype or None,
                description=text_param(params, "description") or "",
                focus=text_param(params, "focus") or None,
            ),
        )
    except (TooLarge, UnsupportedMedia) as exc:
        raise Invalid("file", _reason(exc)) from None


@bp.post("/v2/media", strict_slashes=False)
@scoped("write:media")
async def upload_v2() -> tuple[Response, int]:
    """200 with the attachment when processed in the request; 202 (url null) while a
    job makes its renditions (poll GET /api/v1/media/:id)."""
    media = await _upload()
    return jsonify(_entity(media)), 200 if media.state == "ready" else 202


@bp.post("/v1/media", strict_slashes=False)
@scoped("write:media")
async def upload_v1() -> Response:
    """The legacy upload: always answers the processed attachment. A large image is
    processed here, in the request (the job it queued then finds it done)."""
    media = await _upload()
    if media.state == "processing":
        await uploads.process(services(), media.id)
        media = await uploads.get_own(services(), media.account_id, media.id)
    _check_processed(media)
    return jsonify(_entity(media))


def _check_processed(media: Media) -> None:
    if media.state == "failed":
        raise Invalid("file", f"could not be processed: {media.error}")


async def _unattached(media_id: str) -> Media:
    """One's own attachment not yet attached to a status (Mastodon: 404 otherwise)."""
    media = await uploads.get_own(services(), current_viewer().account_id, id_param(media_id, "id"))
    if media.post_id is not None or media.purpose != "attachment":
        raise NotFound("Record not found")
    return media


@bp.get("/v1/media/<media_id>", strict_slashes=False)
@scoped("write:media")
async def show(media_id: str) -> tuple[Response, int]:
    """206 while processing, 200 when done, 422 when processing failed."""
    media = await _unattached(media_id)
    _check_processed(media)
    return jsonify(_entity(media)), 206 if media.state == "processing" else 200


@bp.put("/v1/media/<media_id>", strict_slashes=False)
@scoped("write:media")
async def update(media_id: str) -> Response:
    """Alt text (`description`) and focal point (`focus`, "x,y") before it is attached."""
    media = await _unattached(media_id)
    params = await read_params()
    updated = await uploads.describe(
        services(),
        media.account_id,
        media.id,
        description=text_param(params, "description"),
        focus=text_param(params, "focus") or None,
    )
    return jsonify(_entity(updated))
