"""GET /api/v2/search: accounts, hashtags and statuses, as the native search finds them
(stgy/api/search.py: the same domain call), in Mastodon's Search entity."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import orjson
from quart import Blueprint, Response

from stgy.domain import search, tag_follows
from stgy.domain.errors import Invalid, Unauthorized
from stgy.http.context import client_ip, config, services
from stgy.mastodon.auth import maybe_holder, require_holder
from stgy.mastodon.entities import account_entity
from stgy.mastodon.filtered import filter_page, marked_anywhere
from stgy.mastodon.params import bool_param, read_params, text_param
from stgy.mastodon.status_entities import statuses_json
from stgy.mastodon.statuses import json_bytes, renderer

bp = Blueprint("mastodon_search", __name__, url_prefix="/api/v2")

# Mastodon's `type` as our search's kinds.
KINDS = {"accounts": "accounts", "hashtags": "tags", "statuses": "posts"}
DEFAULT_LIMIT = 20


def _int_param(params: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    text = text_param(params, name)
    if text is None or text == "":
        return default
    if not text.isascii() or not text.isdigit():
        raise Invalid(name, "must be a whole number")
    return max(low, min(int(text), high))


def tag_entity(name: str, base_url: str, *, following: bool | None) -> dict[str, Any]:
    """Mastodon's Tag: no usage history is kept per day (`history` is empty); `following`
    only for a signed-in viewer (None: nobody is)."""
    tag: dict[str, Any] = {"name": name, "url": f"{base_url}/tags/{quote(name)}", "history": []}
    if following is not None:
        tag["following"] = following
    return tag


@bp.get("/search", strict_slashes=False)
async def search_v2() -> Response:
    """`q`, `type`, `resolve`, `limit` (at most 40), `offset`, `max_id` (statuses).
    Without a token: public statuses only, and no `resolve` or `offset` (401), as
    Mastodon answers."""
    holder = await maybe_holder()
    if holder is not None:
        holder = await require_holder("read:search", user=False)
    params = await read_params()
    raw_type = text_param(params, "type")
    kind = None
    if raw_type:
        if raw_type not in KINDS:
            raise Invalid("type", "must be accounts, hashtags or statuses")
        kind = KINDS[raw_type]
    resolve = bool(bool_param(params, "resolve", False))
    limit = _int_param(params, "limit", DEFAULT_LIMIT, 1, search.MAX_LIMIT)
    offset = _int_param(params, "offset", 0, 0, 10_000)
    viewer = holder.viewer if holder is not None else None
    if viewer is None and (resolve or offset):
        raise Unauthorized(
            "Search queries that resolve remote resources or use offset"
            " are not supported without authentication"
        )
    max_id = text_param(params, "max_id")
    if max_id and not (max_id.isascii() and max_id.isdigit() and len(max_id) <= 18):
        raise Invalid("max_id", "must be a status id")
    # The search has no offset of its own: read offset + limit (at most its 40) and skip.
    found = await search.search(
        services(),
        text_param(params, "q"),
        kind=kind,
        viewer_id=viewer.account_id if viewer else None,
        limit=min(offset + limit, search.MAX_LIMIT),
        until=int(max_id) if max_id else None,
        client=client_ip(),
        resolve=resolve,
    )
    base = config().instance.base_url
    window = slice(offset, offset + limit)
    accounts = [account_entity(a, base, None) for a in found.accounts[window]]
    tags = found.tags[window]
    followed = await tag_follows.following(services(), viewer.account_id, tags) if viewer else set()
    hashtags = [tag_entity(t, base, following=t in followed if viewer else None) for t in tags]
    statuses = statuses_json(renderer(), found.posts[window])
    if viewer is not None:
        statuses = filter_page(statuses, await marked_anywhere(), hide=False)
    return json_bytes(
        b'{"accounts":'
        + orjson.dumps(accounts)
        + b',"statuses":'
        + statuses
        + b',"hashtags":'
        + orjson.dumps(hashtags)
        + b"}"
    )
