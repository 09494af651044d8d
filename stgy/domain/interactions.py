"""What people do to posts: like, share (boost), bookmark; who liked; one's bookmarks."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from stgy.domain.errors import Forbidden, Invalid, NotFound
from stgy.domain.jobs import outbox
from stgy.services import Services
from storage import accounts as accounts_sql
from storage import deliveries as deliveries_sql
from storage import post_writes
from storage import posts as posts_sql
from storage.accounts import Account
from storage.db import Conn
from storage.posts import PostRef, PostView

SHAREABLE = ("public", "unlisted", "local")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CURSOR_RE = re.compile(r"^([0-9]{1,18})-([0-9]{1,19})$")


@dataclass(frozen=True)
class LikersPage:
    accounts: list[Account]
    next: str | None  # cursor for the next (older) page


@dataclass(frozen=True)
class BookmarksPage:
    posts: list[PostView]
    newest: int | None  # bookmark ids: the cursors for since/until
    oldest: int | None


async def _target(conn: Conn, post_id: int, viewer_id: int) -> PostRef:
    """The post acted on (a share stands for the post it shares), live and visible."""
    ref = await posts_sql.get_post_ref(conn, post_id=post_id, viewer_id=viewer_id, original=True)
    if ref is None or ref.deleted or not ref.visible:
        raise NotFound("no such post")
    return ref


async def _view(conn: Conn, post_id: int, viewer_id: int | None) -> PostView:
    views = await posts_sql.load_views(conn, post_ids=[post_id], viewer_id=viewer_id)
    return views[post_id]


async def like(
    services: Services,
    viewer_id: int,
    post_id: int,
    *,
    also: Callable[[Conn], Awaitable[None]] | None = None,
) -> PostView:
    """Like once (again is a no-op); records `post.liked` when a like is new. `also(conn)`
    writes more in the same transaction when the like is new (an AI agent's memory)."""
    events = []
    async with services.pool.acquire() as conn:
        async with conn.transaction():
            ref = await _target(conn, post_id, viewer_id)
            if not ref.allow_likes and ref.account_id != viewer_id:
                raise Forbidden("the author does not accept likes on this post")
            if await post_writes.add_like(conn, account_id=viewer_id, post_id=ref.id):
                payload = {"post_id": ref.id, "account_id": viewer_id}
                events.append(await outbox.record_event(conn, "post.liked", payload))
                if also is not None:
                    await also(conn)
        await outbox.enqueue_events(services.jobs, events)
        return await _view(conn, ref.id, viewer_id)


async def unlike(services: Services, viewer_id: int, post_id: int) -> PostView:
    """Take a like back (none is fine); records `post.unliked` when one was removed."""
    events = []
    async with services.pool.acquire() as conn:
        async with conn.transaction():
            ref = await _target(conn, post_id, viewer_id)
            like_ap_id = await deliveries_sql.like_ap_id(conn, account_id=viewer_id, post_id=ref.id)
            if await post_writes.remove_like(conn, account_id=viewer_id, post_id=ref.id):
                payload = {"post_id": ref.id, "account_id": viewer_id, "like_ap_id": like_ap_id}
                events.append(await outbox.record_event(conn, "post.unliked", payload))
        await outbox.enqueue_events(services.jobs, events)
        return await _view(conn, ref.id, viewer_id)


async def share(services: Services, viewer_id: int, post_id: int) -> PostView:
    """Share a post (a share of a share shares the original); returns the original."""
    events = []
    base_url = services.config.instance.base_url
    async with services.pool.acquire() as conn:
        async with conn.transaction():
            ref = await _target(conn, post_id, viewer_id)
            if ref.visibility not in SHAREABLE:
                raise Forbidden("cannot share a followers-only or direct post")
            sharer = await accounts_sql.get_account(conn, account_id=viewer_id)
            if sharer is None or not sharer.active:
                raise NotFound("no such account")
            share_id = await post_writes.next_post_id(conn)
            inserted = await post_writes.insert_share(
                conn,
                share_id=share_id,
                account_id=viewer_id,
                share_of_id=ref.id,
                visibility=ref.visibility,
                ap_id=f"{base_url}/users/{sharer.handle}/posts/{share_id}/activity",
            )
            if inserted:
                await post_writes.change_shares_count(conn, post_id=ref.id, delta=1)
                await post_writes.add_timeline_entry(
                    conn, owner_id=viewer_id, post_id=share_id, author_id=viewer_id
                )
                payload = {"post_id": share_id}
                events.append(await outbox.record_event(conn, "post.created", payload))
        await outbox.enqueue_events(services.jobs, events)
        return await _view(conn, ref.id, viewer_id)


async def unshare(services: Services, viewer_id: int, post_id: int) -> PostView:
    events = []
    async with services.pool.acquire() as conn:
        async with conn.transaction():
            ref = await _target(conn, post_id, viewer_id)
            share_id = await post_writes.remove_share(
                conn, account_id=viewer_id, share_of_id=ref.id
            )
            if share_id is not None:
                await post_writes.change_shares_count(conn, post_id=ref.id, delta=-1)
                payload = {"post_id": share_id}
                events.append(await outbox.record_event(conn, "post.deleted", payload))
        await outbox.enqueue_events(services.jobs, events)
        return await _view(conn, ref.id, viewer_id)


async def bookmark(services: Services, viewer_id: int, post_id: int) -> PostView:
    async with services.pool.acquire() as conn:
        async with conn.transaction():
            ref = await _target(conn, post_id, viewer_id)
            await post_writes.add_bookmark(conn, account_id=viewer_id, post_id=ref.id)
        return await _view(conn, ref.id, viewer_id)


async def unbookmark(services: Services, viewer_id: int, post_id: int) -> PostView:
    async with services.pool.acquire() as conn:
        async with conn.transaction():
            ref = await _target(conn, post_id, viewer_id)
            await post_writes.remove_bookmark(conn, account_id=viewer_id, post_id=ref.id)
        return await _view(conn, ref.id, viewer_id)


def _encode_cursor(liked_at: datetime, account_id: int) -> str:
    return f"{(liked_at - _EPOCH) // timedelta(microseconds=1)}-{account_id}"


def _decode_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    if cursor is None or cursor == "":
        return None
    match = _CURSOR_RE.match(cursor)
    if match is None or int(match.group(2)) >= 2**63:
        raise Invalid("until", "a cursor from `next` of an earlier page")
    try:
        at = _EPOCH + timedelta(microseconds=int(match.group(1)))
    except OverflowError:
        raise Invalid("until", "a cursor from `next` of an earlier page") from None
    return at, int(match.group(2))


async def likers(
    services: Services, viewer_id: int | None, post_id: int, *, until: str | None, limit: int
) -> LikersPage:
    """Accounts that liked a visible post, newest like first, keyset-paged."""
    before = _decode_cursor(until)
    async with services.pool.acquire() as conn:
        ref = await posts_sql.get_post_ref(
            conn, post_id=post_id, viewer_id=viewer_id, original=True
        )
        if ref is None or ref.deleted or not ref.visible:
            raise NotFound("no such post")
        rows = await posts_sql.liker_page(conn, post_id=ref.id, before=before, limit=limit + 1)
    page = rows[:limit]
    more = len(rows) > limit
    return LikersPage(
        [row.account for row in page],
        _encode_cursor(page[-1].liked_at, page[-1].account.id) if more else None,
    )


async def bookmarks(
    services: Services,
    viewer_id: int,
    *,
    since: int | None,
    until: int | None,
    limit: int,
    ascending: bool = False,
) -> BookmarksPage:
    """Bookmarked posts, newest bookmark first: the newest `limit` bookmarks in (since,
    until), or when `ascending` the `limit` just above `since` (bookmark ids)."""
    async with services.pool.acquire() as conn:
        refs = await posts_sql.bookmark_page(
            conn, account_id=viewer_id, since=since, until=until, limit=limit, ascending=ascending
        )
        if ascending:
            refs.reverse()
        ids = [ref.post_id for ref in refs]
        views = await posts_sql.load_views(conn, post_ids=ids, viewer_id=viewer_id)
    return BookmarksPage(
        [views[i] for i in ids if i in views],
        refs[0].id if refs else None,
        refs[-1].id if refs else None,
    )


@dataclass(frozen=True)
class SharersPage:
    accounts: list[Account]
    next: int | None  # pass as `until` for the next (older) page


async def sharers(
    services: Services, viewer_id: int | None, post_id: int, *, until: int | None, limit: int
) -> SharersPage:
    """Accounts that shared a visible post, newest share first, keyset-paged."""
    async with services.pool.acquire() as conn:
        ref = await posts_sql.get_post_ref(
            conn, post_id=post_id, viewer_id=viewer_id, original=True
        )
        if ref is None or ref.deleted or not ref.visible:
            raise NotFound("no such post")
        rows = await posts_sql.sharer_page(conn, post_id=ref.id, before=until, limit=limit + 1)
    page = rows[:limit]
    return SharersPage(
        [row.account for row in page], page[-1].share_id if len(rows) > limit else None
    )


async def liked_posts(
    services: Services,
    viewer_id: int,
    *,
    since: int | None,
    until: int | None,
    limit: int,
    ascending: bool = False,
) -> list[PostView]:
    """The posts the viewer liked and may still see, newest post first (`ascending`: the
    `limit` just above `since`)."""
    async with services.pool.acquire() as conn:
        ids = await posts_sql.liked_post_ids(
            conn, account_id=viewer_id, since=since, until=until, limit=limit, ascending=ascending
        )
        if ascending:
            ids.reverse()
        views = await posts_sql.load_views(conn, post_ids=ids, viewer_id=viewer_id)
    return [views[i] for i in ids if i in views]


async def own_share(services: Services, viewer_id: int, post_id: int) -> PostView | None:
    """The viewer's share of a post (with the post in it), None when they do not share it."""
    async with services.pool.acquire() as conn:
        share_id = await posts_sql.own_share_id(conn, account_id=viewer_id, share_of_id=post_id)
        if share_id is None:
            return None
        view = await _view(conn, share_id, viewer_id)
    return view if view.shown else None
