"""Pages of posts as JSON bytes, assembled from renderings, and the outbox handlers that
drop renderings once what they show has changed.

A page's statement (storage/renderings.py) returns a row per post: the versions its
post and author renderings must have, and the live fields. Each post's JSON is its
rendering, its author's, and those live fields, in the serializer's key order, so a
page is byte for byte what the serializer makes of the same posts. Renderings come
from the process's memory (stgy/page_cache.py); what is not there, or not of the
version asked for, is read from the stored renderings (one statement), and what is
not stored either is loaded (one statement), rendered by the API's serializer and
stored (one statement). A warm page is therefore the one statement that chose it.

No copy is ever used for another version than its source row's, so the handlers below
only keep the stored tables small, except in two cases where a post's rendering
changes without an edit: a mentioned account's handle, and a remote attachment
cached here or purged again. Those bump the post's render_rev, part of its version.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stgy.domain.jobs import outbox
from stgy.page_cache import RenderingCache
from stgy.services import Services
from storage import posts as posts_sql
from storage import renderings as renderings_sql
from storage.accounts import Account
from storage.db import Conn
from storage.outbox import OutboxEvent
from storage.posts import PostView
from storage.renderings import ORIGINAL_AT, POST_AT, PageRows, Rendering, micros

log = logging.getLogger("stgy.renderings")

# Fill-and-assemble rounds before a page goes out without the posts still missing
# (only posts edited again during each round can stay missing).
FILL_ROUNDS = 2


@dataclass(frozen=True)
class PageRenderer:
    """How the API renders what pages store; `format` changes whenever the output does."""

    format: int
    post: Callable[[PostView], str]
    account: Callable[[Account], str]
    # How a post's JSON closes after its rendering (see _POST, the native API's, for the
    # twelve values it takes, in that order); None: the native API's.
    closing: bytes | None = None
    # The viewer's like, share and bookmark state when there is no viewer.
    no_state: bytes = b"null"
    # Which stored rendering of a post or account is this face's (migration 0027): 0 the
    # native API's, 1 the Mastodon API's. Each face replaces only its own.
    slot: int = 0

    @property
    def template(self) -> bytes:
        return self.closing or _POST

    @property
    def states(self) -> dict[bool | None, bytes]:
        return {True: b"true", False: b"false", None: self.no_state}


@dataclass(frozen=True)
class RenderedPage:
    """The page's posts as comma-separated JSON objects, in page order."""

    body: bytes  # b"" when no post could be assembled
    newest: int | None  # the first and last post in `body`
    oldest: int | None
    missing: list[int]  # posts left out: changed each time while being rendered
    ids: tuple[int, ...] = ()  # the posts in `body`, in order
    rows: tuple[Any, ...] = ()  # the page statement's rows they came from
    # The viewer's filter stamp as the page statement read it (storage.renderings.PageRows);
    # None when the page was not read by one.
    filters_stamp: int | None = None

    def versions(self) -> list[tuple[Any, ...]]:
        """For each post in `body`, what its unchanging part depends on: the post's and
        its author's versions, and those of the original it shares. Two posts with the
        same versions look the same but for their live fields (counts, the viewer's
        state), so another face may keep what it makes of them under this key."""
        by_id = {row[POST_AT]: row for row in self.rows}
        found = []
        for post_id in self.ids:
            row = by_id[post_id]
            found.append(row[POST_AT : POST_AT + 5] + row[ORIGINAL_AT : ORIGINAL_AT + 5])
        return found

    def live(self) -> list[tuple[tuple[Any, ...], tuple[Any, ...] | None]]:
        """For each post in `body`, its fields that change without a new version, named
        as LIVE_FIELDS; and the same of the original it shares (None for a post)."""
        by_id = {row[POST_AT]: row for row in self.rows}
        found: list[tuple[tuple[Any, ...], tuple[Any, ...] | None]] = []
        for post_id in self.ids:
            row = by_id[post_id]
            original = row[ORIGINAL_AT + _LIVE_AT : ORIGINAL_AT + _LIVE_END]
            found.append(
                (
                    row[POST_AT + _LIVE_AT : POST_AT + _LIVE_END],
                    original if row[ORIGINAL_AT] is not None else None,
                )
            )
        return found


# A post's fields that change without a new version: its counts and the viewer's state,
# where they are on a page row after the post's columns start (POST_COLUMNS).
LIVE_FIELDS = ("replies_count", "likes_count", "shares_count", "liked", "shared", "bookmarked")
_LIVE_AT = 8
_LIVE_END = _LIVE_AT + len(LIVE_FIELDS)

EMPTY_PAGE = RenderedPage(b"", None, None, [])

# The closing of a post's JSON: after the rendering of the post, of its author and of
# what it shares, the live fields in the order of stgy/api/serializers.py.
_POST = (
    b'%s,"account":%s,"posts_count":%d,"followers_count":%d,"following_count":%d},'
    b'"share_of":%s,"replies_count":%d,"likes_count":%d,"shares_count":%d,'
    b'"liked":%s,"shared":%s,"bookmarked":%s}'
)
_STATE = {True: b"true", False: b"false", None: b"null"}


def _post_json(
    cache: RenderingCache,
    fmt: int,
    template: bytes,
    row: Any,
    at: int,
    share_of: bytes,
    state: dict[bool | None, bytes] = _STATE,
) -> bytes | None:
    """A post's JSON from the row's columns at `at`, None when a rendering is missing."""
    post = cache.post(row[at], row[at + 1], row[at + 2], fmt)
    account = cache.account(row[at + 3], row[at + 4], fmt)
    if post is None or account is None:
        return None
    return template % (
        post,
        account,
        row[at + 5],
        row[at + 6],
        row[at + 7],
        share_of,
        row[at + 8],
        row[at + 9],
        row[at + 10],
        state[row[at + 11]],
        state[row[at + 12]],
        state[row[at + 13]],
    )


# The hot loop below reads a page row by literal positions: 1-14 the post (POST_COLUMNS),
# 15 where the original's start.
assert (POST_AT, ORIGINAL_AT) == (1, 15)  # noqa: S101 - the layout the loop is written for


def _assemble(
    cache: RenderingCache,
    fmt: int,
    rows: list[Any],
    template: bytes = _POST,
    state: dict[bool | None, bytes] = _STATE,
) -> tuple[list[bytes], list[int], list[int]]:
    """The JSON of each row the cache can make (page order), their ids, and the ids of
    those it cannot. (A page's hot loop: _post_json inlined, for a post not a share.)"""
    made: list[bytes] = []
    ids: list[int] = []
    missed: list[int] = []
    get = cache.entries.get
    for row in rows:
        post_id = row[1]
        post = get(post_id)
        account = get(-row[4])
        if (
            post is None
            or account is None
            or post[0] != row[2]
            or post[1] != row[3]
            or post[2] != fmt
            or account[0] != row[5]
            or account[2] != fmt
        ):
            missed.append(post_id)
            continue
        share_of: bytes | None = b"null"
        if row[15] is not None:
            share_of = _post_json(cache, fmt, template, row, ORIGINAL_AT, b"null", state)
            if share_of is None:
                missed.append(post_id)
                continue
        made.append(
            template
            % (
                post[3],
                account[3],
                row[6],  # the author's posts_count, followers_count, following_count
                row[7],
                row[8],
                share_of,
                row[9],  # the post's replies_count, likes_count, shares_count
                row[10],
                row[11],
                state[row[12]],  # the viewer's liked, shared, bookmarked
                state[row[13]],
                state[row[14]],
            )
        )
        ids.append(post_id)
    return made, ids, missed


def _keys(rows: list[Any]) -> set[int]:
    """The cache keys of the renderings these rows need."""
    keys: set[int] = set()
    for row in rows:
        for at in (POST_AT, ORIGINAL_AT):
            if row[at] is not None:
                keys.add(row[at])
                keys.add(-row[at + 3])
    return keys


def _wanted(
    cache: RenderingCache, fmt: int, rows: list[Any]
) -> tuple[dict[int, tuple[int, int]], dict[int, int]]:
    """The versions of the posts and accounts on these rows that the cache lacks."""
    posts: dict[int, tuple[int, int]] = {}
    accounts: dict[int, int] = {}
    for row in rows:
        for at in (POST_AT, ORIGINAL_AT):
            if row[at] is None:
                continue
            if cache.post(row[at], row[at + 1], row[at + 2], fmt) is None:
                posts[row[at]] = (row[at + 1], row[at + 2])
            if cache.account(row[at + 3], row[at + 4], fmt) is None:
                accounts[row[at + 3]] = row[at + 4]
    return posts, accounts


def _renderings(
    views: list[PostView], renderer: PageRenderer
) -> tuple[list[Rendering], list[Rendering]]:
    posts: list[Rendering] = []
    accounts: list[Rendering] = []
    for view in views:
        for shown in (view, view.share_of):
            if shown is None:
                continue
            version = shown.edited_at or shown.created_at
            posts.append(Rendering(shown.id, version, renderer.post(shown), shown.render_rev))
            author = shown.account
            accounts.append(Rendering(author.id, author.updated_at, renderer.account(author)))
    return posts, accounts


async def _fill(conn: Conn, cache: RenderingCache, renderer: PageRenderer, rows: list[Any]) -> None:
    """Put the renderings these rows need into the cache: stored ones of the right
    version, else made from the posts as loaded now (and stored)."""
    fmt = renderer.format
    posts, accounts = _wanted(cache, fmt, rows)
    stored = await renderings_sql.stored(
        conn, post_ids=list(posts), account_ids=list(accounts), format=fmt, slot=renderer.slot
    )
    for post_id, (version, rev, body) in stored.posts.items():
        if posts[post_id] == (version, rev):
            cache.put_post(post_id, version, rev, fmt, body.encode())
            del posts[post_id]
    for account_id, (version, body) in stored.accounts.items():
        if accounts[account_id] == version:
            cache.put_account(account_id, version, fmt, body.encode())
            del accounts[account_id]
    if not posts and not accounts:
        return
    # Load the posts that lack a rendering and the posts of the authors that lack one;
    # the viewer's own state is not part of a rendering: load as nobody.
    load = set(posts)
    for row in rows:
        for at in (POST_AT, ORIGINAL_AT):
            if row[at] is not None and row[at + 3] in accounts:
                load.add(row[at])
    views = await posts_sql.load_views(conn, post_ids=sorted(load), viewer_id=None)
    made_posts, made_accounts = _renderings(list(views.values()), renderer)
    await renderings_sql.store(
        conn, posts=made_posts, accounts=made_accounts, format=fmt, slot=renderer.slot
    )
    for made in made_posts:
        cache.put_post(made.id, micros(made.version), made.rev, fmt, made.body.encode())
    for made in made_accounts:
        cache.put_account(made.id, micros(made.version), fmt, made.body.encode())


async def assemble(
    conn: Conn,
    cache: RenderingCache,
    renderer: PageRenderer,
    page: PageRows,
    viewer_id: int | None,
) -> RenderedPage:
    """The page's JSON, filling the renderings it lacks. A post that changed again each
    time it was rendered is left out (it is in `missing`)."""
    fmt, rows, template, state = renderer.format, page.rows, renderer.template, renderer.states
    # Each format has a cache of its own, so two faces' pages do not evict each other.
    cache = cache.for_format(fmt)
    made, ids, missed = _assemble(cache, fmt, rows, template, state)
    if missed:
        # Filled into a copy of its own, so the page is made even when the cache is too
        # small (or set to nothing) to keep all it needs.
        own = cache.page(_keys(rows))
        for fill in range(FILL_ROUNDS):
            if fill:
                # What was rendered is newer than the rows: read the rows again.
                post_ids = [row[POST_AT] for row in rows]
                again = await renderings_sql.page_of(conn, post_ids=post_ids, viewer_id=viewer_id)
                rows = again.rows
                made, ids, missed = _assemble(own, fmt, rows, template, state)
                if not missed:
                    break
            await _fill(conn, own, renderer, rows)
            made, ids, missed = _assemble(own, fmt, rows, template, state)
            if not missed:
                break
        cache.keep(own)
    if missed:
        log.warning("page_left_out posts=%d (changed while rendering)", len(missed))
    if not made:
        return RenderedPage(b"", None, None, missed, filters_stamp=page.filters_stamp)
    return RenderedPage(
        b",".join(made), ids[0], ids[-1], missed, tuple(ids), tuple(rows), page.filters_stamp
    )


async def render_page(
    conn: Conn,
    cache: RenderingCache,
    renderer: PageRenderer,
    post_ids: list[int],
    viewer_id: int | None,
) -> RenderedPage:
    """The posts' JSON in the order of `post_ids` for the viewer (None: nobody)."""
    if not post_ids:
        return EMPTY_PAGE
    page = await renderings_sql.page_of(conn, post_ids=post_ids, viewer_id=viewer_id)
    return await assemble(conn, cache, renderer, page, viewer_id)


@outbox.handles("post.updated")
@outbox.handles("post.deleted")
async def drop_post_rendering(conn: Conn, event: OutboxEvent, services: Services) -> None:
    await renderings_sql.drop_post(conn, post_id=int(event.payload["post_id"]))


@outbox.handles("account.updated")
async def drop_account_renderings(conn: Conn, event: OutboxEvent, services: Services) -> None:
    """The profile, and the posts mentioning the account (its handle may have changed)."""
    await renderings_sql.drop_account(conn, account_id=int(event.payload["account_id"]))


@outbox.handles("account.deleted")
async def drop_deleted_account(conn: Conn, event: OutboxEvent, services: Services) -> None:
    account_id = int(event.payload["account_id"])
    await renderings_sql.drop_account(conn, account_id=account_id)
    await renderings_sql.drop_account_posts(conn, account_id=account_id)


async def drop_all(services: Services) -> int:
    async with services.pool.acquire() as conn:
        return await renderings_sql.drop_all(conn)


async def posts_page(
    services: Services, renderer: PageRenderer, post_ids: list[int], viewer_id: int | None
) -> RenderedPage:
    """These posts' JSON in this order, as a timeline page assembles them (a thread or a
    profile's posts shown with the same renderings as the timelines)."""
    async with services.pool.acquire() as conn:
        return await render_page(conn, services.renderings, renderer, post_ids, viewer_id)
