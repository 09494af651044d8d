"""Timelines: the home timeline (stored entries, then computed on read), public, local, tag."""

from __future__ import annotations

import logging

from stgy.domain.text import normalise_tag
from stgy.services import Services
from storage import posts as posts_sql
from storage import timelines as timelines_sql
from storage.db import Conn
from storage.posts import PostView

log = logging.getLogger("stgy.timelines")

# Entries kept per home timeline by the trim cron; older pages are computed on read.
HOME_KEEP = 800
# Owners per trim statement (each batch its own transaction).
TRIM_BATCH = 1000


async def _views(conn: Conn, ids: list[int], viewer_id: int | None) -> list[PostView]:
    views = await posts_sql.load_views(conn, post_ids=ids, viewer_id=viewer_id)
    # The ids were filtered in SQL; `shown` drops what was deleted in between.
    return [views[post_id] for post_id in ids if post_id in views and views[post_id].shown]


async def home(
    services: Services, owner_id: int, *, since: int | None, until: int | None, limit: int
) -> list[PostView]:
    """A page of the owner's home timeline, newest first, in at most four statements.

    Stored entries come first. When they run out before the page is full, the rest
    is computed from follows and posts below the oldest stored entry, because the
    trim cron dropped (or fan-out never wrote) what lies there.
    """
    async with services.pool.acquire() as conn:
        ids = await timelines_sql.home_entry_ids(
            conn, owner_id=owner_id, since=since, until=until, limit=limit
        )
        if len(ids) < limit:
            oldest = await timelines_sql.oldest_entry_id(conn, owner_id=owner_id)
            before = oldest if until is None else until if oldest is None else min(oldest, until)
            if before is None or since is None or since + 1 < before:
                ids += await timelines_sql.home_ids_on_read(
                    conn, owner_id=owner_id, since=since, before=before, limit=limit - len(ids)
                )
        return await _views(conn, ids, owner_id)


async def public(
    services: Services,
    viewer_id: int | None,
    *,
    local_only: bool,
    since: int | None,
    until: int | None,
    limit: int,
) -> list[PostView]:
    """Public original posts (shares left out), of this instance only or of all known."""
    query = timelines_sql.local_ids if local_only else timelines_sql.public_ids
    async with services.pool.acquire() as conn:
        ids = await query(conn, viewer_id=viewer_id, since=since, until=until, limit=limit)
        return await _views(conn, ids, viewer_id)


async def tagged(
    services: Services,
    viewer_id: int | None,
    tag: str,
    *,
    since: int | None,
    until: int | None,
    limit: int,
) -> list[PostView]:
    name = normalise_tag(tag.removeprefix("#"))
    if name is None:
        return []
    async with services.pool.acquire() as conn:
        ids = await timelines_sql.tag_ids(
            conn, tag=name, viewer_id=viewer_id, since=since, until=until, limit=limit
        )
        return await _views(conn, ids, viewer_id)


async def trim_home_timelines(services: Services, *, keep: int = HOME_KEEP) -> int:
    """Trim every home timeline to its newest `keep` entries; the number deleted."""
    after, deleted = 0, 0
    while True:
        async with services.pool.acquire() as conn:
            last, n = await timelines_sql.trim(
                conn, after_owner=after, owners=TRIM_BATCH, keep=keep
            )
        deleted += n
        if last is None:
            break
        after = last
    if deleted:
        log.info("timelines_trimmed entries=%d keep=%d", deleted, keep)
    return deleted
