"""Mastodon features stgy does not have: scheduled statuses, pinned statuses, polls,
per-person domain blocks, private notes on accounts, translation. Lists answer empty
and writes answer 422 naming what is missing, so apps show an honest error rather than
a 404 they take for a broken server."""

from __future__ import annotations

from quart import Blueprint, Response, jsonify

from stgy.domain.errors import Unprocessable
from stgy.mastodon.auth import scoped
from stgy.mastodon.errors import RecordNotFound
from stgy.mastodon.params import id_param

bp = Blueprint("mastodon_unsupported", __name__, url_prefix="/api/v1")


@bp.get("/scheduled_statuses", strict_slashes=False)
@scoped("read:statuses")
async def scheduled_statuses() -> Response:
    return jsonify([])


@bp.get("/domain_blocks", strict_slashes=False)
@scoped("read:blocks", "follow")
async def domain_blocks() -> Response:
    return jsonify([])


@bp.post("/domain_blocks", strict_slashes=False)
@bp.delete("/domain_blocks", strict_slashes=False)
@scoped("write:blocks", "follow")
async def change_domain_blocks() -> Response:
    raise Unprocessable("Blocking a whole domain for yourself is not supported here")


@bp.post("/statuses/<status_id>/pin", strict_slashes=False)
@bp.post("/statuses/<status_id>/unpin", strict_slashes=False)
@scoped("write:accounts")
async def pin(status_id: str) -> Response:
    id_param(status_id, "id")
    raise Unprocessable("Pinning statuses is not supported here")


@bp.post("/statuses/<status_id>/mute", strict_slashes=False)
@bp.post("/statuses/<status_id>/unmute", strict_slashes=False)
@scoped("write:mutes")
async def mute_conversation(status_id: str) -> Response:
    id_param(status_id, "id")
    raise Unprocessable("Muting conversations is not supported here")


@bp.post("/statuses/<status_id>/translate", strict_slashes=False)
@scoped("read:statuses")
async def translate(status_id: str) -> Response:
    id_param(status_id, "id")
    raise Unprocessable("Translation is not available on this server")


@bp.post("/accounts/<account_id>/note", strict_slashes=False)
@scoped("write:accounts")
async def account_note(account_id: str) -> Response:
    id_param(account_id, "id")
    raise Unprocessable("Private notes on accounts are not supported here")


@bp.get("/polls/<poll_id>", strict_slashes=False)
async def poll(poll_id: str) -> Response:
    raise RecordNotFound()  # statuses never carry polls here


@bp.get("/instance/translation_languages", strict_slashes=False)
async def translation_languages() -> Response:
    return jsonify({})
