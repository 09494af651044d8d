"""Search: accounts by handle or display name, tags by prefix, public posts by their words."""

from __future__ import annotations

from dataclasses import dataclass, field

from stgy.domain import accounts as accounts_domain
from stgy.domain.errors import Invalid, NotFound
from stgy.domain.remote import resolve, resolve_url
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
    client: str | None = None,
    resolve: bool = True,
) -> SearchResults:
    """Search what `kind` names (everything when None); anyone may search, posts are public.

    `user@host` and actor URLs find that one account, a post's URL that one post; with
    `resolve`, looked up on its server when we do not know it (a lookup counts as a write
    of `client` for the rate limit), else only among what this server has."""
    text = clean_query(q)
    limit = max(1, min(limit, MAX_LIMIT))
    if _is_url(text):
        return await _by_url(services, text, kind, viewer_id, client, resolve)
    accounts: list[Account] = []
    tags: list[str] = []
    posts: list[PostView] = []
    exact = "@" in text.removeprefix("@")
    if kind in (None, "accounts") and exact:
        accounts = await _exact_account(services, text, client, resolve)
    async with services.pool.acquire() as conn:
        if kind in (None, "accounts") and not exact:
            accounts = await _accounts(conn, text, limit)
        if kind in (None, "tags"):
            tag = text.removeprefix("#").lower()
            if tag and not any(c.isspace() for c in tag):
                tags = await search_sql.tags_by_prefix(conn, prefix=tag, limit=limit)
        if kind in (None, "posts"):
            posts = await _posts(conn, text, viewer_id=viewer_id, until=until, limit=limit)
    return SearchResults(accounts, tags, posts)


def _is_url(text: str) -> bool:
    return text.lower().startswith(("https://", "http://"))


async def _exact_account(
    services: Services, text: str, client: str | None, fetch: bool
) -> list[Account]:
    """The account a `user@host` names; none when it cannot be had (an unknown or
    unreachable account is an empty result, as Mastodon answers)."""
    try:
        if fetch:
            return [await resolve.find_account(services, text, client=client)]
        return [await accounts_domain.find_account(services, text.removeprefix("@"))]
    except (NotFound, Invalid):
        return []


async def _posts(
    conn: Conn, text: str, *, viewer_id: int | None, until: int | None, limit: int
) -> list[PostView]:
    """Public posts with the words of `text`; words inside Chinese, Japanese and Korean
    text are found by their bigrams (migration 0018). A query of punctuation alone has no
    word to look for: no posts."""
    query = await search_sql.post_query(conn, text=text)
    if not query.matching:
        return []
    ids = await search_sql.post_ids_matching(
        conn, query=query, viewer_id=viewer_id, until=until, limit=limit
    )
    views = await posts_sql.load_views(conn, post_ids=ids, viewer_id=viewer_id)
    return [views[i] for i in ids if i in views]


async def _by_url(
    services: Services,
    url: str,
    kind: str | None,
    viewer_id: int | None,
    client: str | None,
    fetch: bool,
) -> SearchResults:
    """The one account or post a URL names (nothing when it names neither, or the
    viewer may not see the post)."""
    try:
        found = await resolve_url.resolve_url(services, url, client=client, fetch=fetch)
    except (NotFound, Invalid):
        return SearchResults()
    if found.account is not None:
        return SearchResults(accounts=[found.account] if kind in (None, "accounts") else [])
    if found.post_id is None or kind not in (None, "posts"):
        return SearchResults()
    async with services.pool.acquire() as conn:
        views = await posts_sql.load_views(conn, post_ids=[found.post_id], viewer_id=viewer_id)
    view = views.get(found.post_id)
    return SearchResults(posts=[view] if view is not None and view.shown else [])


async def _accounts(conn: Conn, text: str, limit: int) -> list[Account]:
    handle = text.removeprefix("@")
    if not handle:
        return []
    return await search_sql.accounts_by_prefix(conn, text=handle, limit=limit)
