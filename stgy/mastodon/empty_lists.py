"""Endpoints apps call on start-up for features stgy does not have (yet):
announcements, trends, custom emojis, Web Push. They answer as a Mastodon
server with none of them would, so that apps start and show empty screens."""

from __future__ import annotations

from quart import Blueprint, Response, jsonify

from stgy.mastodon.auth import scoped
from stgy.mastodon.errors import RecordNotFound

bp = Blueprint("mastodon_empty", __name__, url_prefix="/api")


def _empty() -> Response:
    return jsonify([])


@bp.get("/v1/custom_emojis", strict_slashes=False)
async def custom_emojis() -> Response:
    return _empty()


@bp.get("/v1/announcements", strict_slashes=False)
@scoped("read")
async def announcements() -> Response:
    return _empty()


@bp.get("/v1/trends", strict_slashes=False)
@bp.get("/v1/trends/tags", strict_slashes=False)
@bp.get("/v1/trends/statuses", strict_slashes=False)
@bp.get("/v1/trends/links", strict_slashes=False)
async def trends() -> Response:
    return _empty()


@bp.get("/v1/push/subscription", strict_slashes=False)
@scoped("push")
async def push_subscription() -> Response:
    raise RecordNotFound()
