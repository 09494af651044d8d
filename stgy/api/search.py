"""Native API: search accounts, tags and posts; works without login (public posts only)."""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote

from pydantic import Field
from quart import Blueprint, Response, jsonify

from stgy.api import schemas
from stgy.api.serializers import account_json, post_json
from stgy.domain import search
from stgy.http.context import client_ip, config, maybe_viewer, services
from stgy.http.validation import QueryModel, parse_cursor, query, responds

bp = Blueprint("search", __name__, url_prefix="/api")


class SearchQuery(QueryModel):
    q: str | None = Field(
        default=None,
        description="words for posts (inside Chinese, Japanese and Korean text too, exact"
        " matches first); a handle or name prefix, user@host or an actor URL for"
        " accounts (an account of another server is looked up there); a tag prefix (with or"
        " without #) for tags",
    )
    type: Literal["accounts", "tags", "posts"] | None = Field(
        default=None, description="search only this kind (all three when absent)"
    )
    limit: int = Field(default=search.DEFAULT_LIMIT, ge=1, le=search.MAX_LIMIT)
    until: str | None = Field(
        default=None,
        description="the id of the last post of the page before: the next page of posts,"
        " in the same order",
    )


@bp.get("/search")
@query(SearchQuery)
@responds(schemas.SearchOut)
@schemas.fails_with(400, 429)
async def search_all(query: SearchQuery) -> Response:
    viewer = await maybe_viewer()
    results = await search.search(
        services(),
        query.q,
        kind=query.type,
        viewer_id=viewer.account_id if viewer else None,
        limit=query.limit,
        until=parse_cursor(query.until, "until"),
        client=client_ip(),
    )
    base = config().instance.base_url
    return jsonify(
        {
            "accounts": [account_json(account) for account in results.accounts],
            "tags": [{"name": name, "url": f"{base}/tags/{quote(name)}"} for name in results.tags],
            "posts": [post_json(view) for view in results.posts],
        }
    )
