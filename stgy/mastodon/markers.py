"""GET and POST /api/v1/markers: where the person stopped reading home and notifications."""

from __future__ import annotations

from quart import Blueprint, Response, jsonify

from stgy.domain import markers
from stgy.http.context import services
from stgy.mastodon.auth import current_viewer, scoped
from stgy.mastodon.entities import marker_entity
from stgy.mastodon.params import list_param, read_params, text_param

bp = Blueprint("mastodon_markers", __name__, url_prefix="/api/v1/markers")


@bp.get("", strict_slashes=False)
@scoped("read:statuses")
async def get_markers() -> Response:
    params = await read_params()
    found = await markers.get_markers(
        services(), current_viewer().account_id, list_param(params, "timeline")
    )
    return jsonify({marker.timeline: marker_entity(marker) for marker in found})


@bp.post("", strict_slashes=False)
@scoped("write:statuses")
async def set_markers() -> Response:
    params = await read_params()
    positions: dict[str, str] = {}
    for timeline in markers.TIMELINES:
        given = params.get(timeline)
        if isinstance(given, dict):
            positions[timeline] = text_param(given, "last_read_id") or ""
    saved = await markers.set_markers(services(), current_viewer().account_id, positions)
    return jsonify({marker.timeline: marker_entity(marker) for marker in saved})
