"""Search: accounts by handle or display name, tags by prefix, public posts by their words."""

from __future__ import annotations

from dataclasses import dataclass, field

from stgy.domain.errors import Invalid
from stgy.services import Services
from storage import posts as posts_sql
from storage import search as search_sql
from storage.accounts import Account
from storage.db import Conn
from storage.posts import PostView

MAX_QUERY = 200
DEFAULT_LIMIT = 20
MAX_LIMIT = 40
KINDS = ("accounts", "tags", "posts")


@dataclass(frozen=True)
class SearchResults:
    accounts: list[Account] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    posts: list[PostView] = field(default_factory=list)


def clean_query(q: str | None) -> str:
    text = (q or "").strip()
    if not text:
        raise Invalid("q", "required: what to search for")
    if len(text) > MAX_QUERY:
        raise Invalid("q", f"at most {MAX_QUERY} characters")
    if "\x00" in text:
        raise Invalid("q", "must not contain NUL characters")
    return text


async def search(
    services: Services,
    q: str | None,
    *,
    kind: str | None = None,
    viewer_id: int | None = None,
    limit: int = DEFAULT_LIMIT,
    until: int | None = None,
) -> SearchResults:
    """Search what `kind` names (everything when None); anyone may search, posts are public."""
    text = clean_query(q)
    limit = max(1, min(limit, MAX_LIMIT))
    accounts: list[Account] = []
    tags: list[str] = []
    posts: list[PostView] = []
    async with services.pool.acquire() as conn:
        if kind in (None, "accounts"):
            accounts = await _accounts(services, conn, text, limit)
        if kind in (None, "tags"):
            tag = text.removeprefix("#").lower()
            if tag and not any(c.isspace() for c in tag):
                tags = await search_sql.tags_by_prefix(conn, prefix=tag, limit=limit)
        if kind in (None, "posts"):
            ids = await search_sql.post_ids_matching(
                conn, query=text, viewer_id=viewer_id, until=until, limit=limit
            )
            views = await posts_sql.load_views(conn, post_ids=ids, viewer_id=viewer_id)
            posts = [views[i] for i in ids if i in views]
    return SearchResults(accounts, tags, posts)


async def _accounts(services: Services, conn: Conn, text: str, limit: int) -> list[Account]:
    handle = text.removeprefix("@")
    if "@" in handle:
        # `user@host`: that account exactly (fetching unknown ones by WebFinger comes
        # with federation).
        name, _, domain = handle.partition("@")
        domain = domain.lower()
        if not name or not domain:
            return []
        local = domain == services.config.instance.domain.lower()
        found = await search_sql.account_by_acct(
            conn, handle=name, domain=None if local else domain
        )
        return [found] if found else []
    if not handle:
        return []
    return await search_sql.accounts_by_prefix(conn, text=handle, limit=limit)
