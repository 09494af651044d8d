"""/api/v1/conversations: a person's threads of direct posts (Conversation entities)."""

from __future__ import annotations

import orjson
from quart import Blueprint, Response

from stgy.domain import conversations
from stgy.domain.conversations import ConversationView
from stgy.http.context import config, services
from stgy.mastodon.auth import current_viewer, scoped
from stgy.mastodon.entities import account_entity
from stgy.mastodon.pagination import link_header, page_request
from stgy.mastodon.params import id_param, read_params
from stgy.mastodon.status_entities import status_json
from stgy.mastodon.statuses import json_bytes, renderer

bp = Blueprint("mastodon_conversations", __name__, url_prefix="/api/v1/conversations")


def conversation_json(view: ConversationView, base_url: str) -> bytes:
    """A Conversation; its last status spliced in as the timelines render it."""
    head = {
        "id": str(view.conversation.id),
        "unread": view.conversation.unread,
        "accounts": [account_entity(account, base_url, None) for account in view.accounts],
    }
    status = status_json(renderer(), view.last_post)
    return orjson.dumps(head)[:-1] + b',"last_status":' + status + b"}"


@bp.get("", strict_slashes=False)
@scoped("read:statuses")
async def index() -> Response:
    page = page_request(await read_params())
    found = await conversations.page(
        services(),
        current_viewer().account_id,
        until=page.max_id,
        since=page.since_id,
        just_above=page.min_id,
        limit=page.limit,
    )
    base_url = config().instance.base_url
    response = json_bytes(b"[" + b",".join(conversation_json(v, base_url) for v in found) + b"]")
    # Pages go by each conversation's last status, as Mastodon's do.
    link = link_header(page, [v.conversation.last_post_id for v in found])
    if link is not None:
        response.headers["Link"] = link
    return response


@bp.post("/<conversation_id>/read", strict_slashes=False)
@scoped("write:conversations")
async def mark_read(conversation_id: str) -> Response:
    view = await conversations.mark_read(
        services(), current_viewer().account_id, id_param(conversation_id, "id")
    )
    return json_bytes(conversation_json(view, config().instance.base_url))


@bp.delete("/<conversation_id>", strict_slashes=False)
@scoped("write:conversations")
async def remove(conversation_id: str) -> Response:
    await conversations.remove(
        services(), current_viewer().account_id, id_param(conversation_id, "id")
    )
    return json_bytes(b"{}")
