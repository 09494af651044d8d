"""Timelines: the home timeline (stored entries, then computed on read), lists, public,
local, tag; each page comes as JSON bytes assembled from stored renderings
(stgy/domain/renderings.py)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from stgy.domain.errors import NotFound, Unauthorized
from stgy.domain.renderings import PageRenderer, RenderedPage, assemble, render_page
from stgy.domain.text import normalise_tag
from stgy.services import Services
from storage import list_timelines as list_timelines_sql
from storage import public_timelines as public_sql
from storage import timelines as timelines_sql
from storage.db import Conn

log = logging.getLogger("stgy.timelines")

# Entries kept per home timeline by the trim cron; older pages are computed on read.
HOME_KEEP = 800
# Entries kept per list by the same cron; older pages are computed on read.
LIST_KEEP = 400
# Owners (or lists) per trim statement (each batch its own transaction).
TRIM_BATCH = 1000


def origin(local_only: bool, remote_only: bool) -> bool | None:
    """True for this instance's posts only, False for other instances' only, None for
    both (asking for both local and remote only is asking for all, as Mastodon reads it)."""
    if local_only != remote_only:
        return local_only
    return None


async def _home_ids_past_entries(
    conn: Conn, owner_id: int, ids: list[int], *, since: int | None, until: int | None, limit: int
) -> list[int]:
    """The stored entries (`ids`) ran out before the page was full: the rest is computed
    from follows and posts below the oldest stored entry, because the trim cron dropped
    (or fan-out never wrote) what lies there."""
    oldest = await timelines_sql.oldest_entry_id(conn, owner_id=owner_id)
    before = oldest if until is None else until if oldest is None else min(oldest, until)
    if before is None or since is None or since + 1 < before:
        ids = ids + await timelines_sql.home_ids_on_read(
            conn, owner_id=owner_id, since=since, before=before, limit=limit - len(ids)
        )
    return ids


async def _home_ids_ascending(
    conn: Conn,
    owner_id: int,
    stored: list[int],
    *,
    since: int | None,
    until: int | None,
    limit: int,
) -> list[int] | None:
    """The ids of an ascending home page, newest first, when part of it lies below the
    oldest stored entry (computed from follows and posts, as _home_ids_past_entries);
    None when the stored entries (`stored`, newest first) are the page."""
    oldest = await timelines_sql.oldest_entry_id(conn, owner_id=owner_id)
    before = until if oldest is None else oldest if until is None else min(oldest, until)
    if before is not None and since is not None and since + 1 >= before:
        return None
    older = await timelines_sql.home_ids_on_read(
        conn, owner_id=owner_id, since=since, before=before, limit=limit, ascending=True
    )
    if not older:
        return None
    # The computed posts are older than every stored entry: they come first going up.
    ascending = (older + stored[::-1])[:limit]
    return ascending[::-1]


async def home(
    services: Services,
    renderer: PageRenderer,
    owner_id: int,
    session_id: int,
    *,
    since: int | None,
    until: int | None,
    limit: int,
    ascending: bool = False,
) -> RenderedPage:
    """A page of the owner's home timeline, newest first: one statement when the stored
    entries fill it and this process holds its renderings; past the stored entries the
    page is read again from its ids (render_page). Unauthorized unless `session_id` is
    a live session of the owner's. `ascending`: the page is the `limit` posts just above
    `since` (Mastodon's min_id), still shown newest first."""
    async with services.pool.acquire() as conn:
        chosen = await timelines_sql.home_page(
            conn,
            owner_id=owner_id,
            session_id=session_id,
            since=since,
            until=until,
            limit=limit,
            ascending=ascending,
        )
        if chosen is None:
            raise Unauthorized("session ended; log in again")
        if ascending:
            ids = await _home_ids_ascending(
                conn, owner_id, chosen.ids, since=since, until=until, limit=limit
            )
            if ids is None:
                return await assemble(conn, services.renderings, renderer, chosen, owner_id)
            return await render_page(conn, services.renderings, renderer, ids, owner_id)
        if len(chosen.rows) == limit:
            return await assemble(conn, services.renderings, renderer, chosen, owner_id)
        ids = await _home_ids_past_entries(
            conn, owner_id, chosen.ids, since=since, until=until, limit=limit
        )
        if ids == chosen.ids:
            return await assemble(conn, services.renderings, renderer, chosen, owner_id)
        return await render_page(conn, services.renderings, renderer, ids, owner_id)


async def list_timeline(
    services: Services,
    renderer: PageRenderer,
    owner_id: int,
    list_id: int,
    *,
    since: int | None,
    until: int | None,
    limit: int,
    ascending: bool = False,
) -> RenderedPage:
    """A page of the owner's list, newest first: one statement when its stored entries
    fill it, as a home page; below the list's floor the rest is computed from the
    members' posts. `ascending`: the posts just above `since` (Mastodon's min_id), read
    as the newest up to the `limit`-th stored entry above it. NotFound for someone
    else's list, as for none."""
    async with services.pool.acquire() as conn:
        if ascending and since is not None:
            bound = await list_timelines_sql.bound_above(
                conn, list_id=list_id, since=since, until=until, limit=limit
            )
            if bound is not None:
                until = bound + 1
        chosen = await list_timelines_sql.list_page(
            conn, owner_id=owner_id, list_id=list_id, since=since, until=until, limit=limit
        )
        if chosen is None:
            raise NotFound("no such list")
        if len(chosen.rows) < limit:
            floor = await list_timelines_sql.entries_floor(conn, list_id=list_id)
            before = floor + 1 if until is None else min(until, floor + 1)
            if floor > 0 and (since is None or since + 1 < before):
                ids = chosen.ids + await list_timelines_sql.list_ids_on_read(
                    conn,
                    owner_id=owner_id,
                    list_id=list_id,
                    since=since,
                    before=before,
                    limit=limit - len(chosen.rows),
                )
                if len(ids) > len(chosen.rows):
                    return await render_page(conn, services.renderings, renderer, ids, owner_id)
        return await assemble(conn, services.renderings, renderer, chosen, owner_id)


async def public(
    services: Services,
    renderer: PageRenderer,
    viewer_id: int | None,
    *,
    local_only: bool = False,
    remote_only: bool = False,
    only_media: bool = False,
    since: int | None,
    until: int | None,
    limit: int,
    ascending: bool = False,
) -> RenderedPage:
    """Public original posts (shares left out), of this instance, of others or of all,
    with attachments only when `only_media`; `ascending` as for home."""
    async with services.pool.acquire() as conn:
        ids = await public_sql.public_ids(
            conn,
            viewer_id=viewer_id,
            since=since,
            until=until,
            limit=limit,
            local=origin(local_only, remote_only),
            only_media=only_media,
            ascending=ascending,
        )
        if ascending:
            ids.reverse()
        return await render_page(conn, services.renderings, renderer, ids, viewer_id)


def _tag_names(tags: list[str]) -> list[str]:
    """The stored forms of the tags that are valid ones (a `#` before each is allowed)."""
    names = (normalise_tag(tag.removeprefix("#")) for tag in tags)
    return list(dict.fromkeys(name for name in names if name is not None))


async def tagged(
    services: Services,
    renderer: PageRenderer,
    viewer_id: int | None,
    tag: str,
    *,
    since: int | None,
    until: int | None,
    limit: int,
    ascending: bool = False,
    local_only: bool = False,
    remote_only: bool = False,
    only_media: bool = False,
    any_of: list[str] | None = None,
    all_of: list[str] | None = None,
    none_of: list[str] | None = None,
) -> RenderedPage:
    """Public original posts with `tag` or any of `any_of`, all of `all_of` and none of
    `none_of` (Mastodon's tag timeline). An invalid tag matches nothing: an invalid one
    among `all_of` makes the page empty, among `any_of` or `none_of` it is no tag."""
    main = normalise_tag(tag.removeprefix("#"))
    tags = _tag_names([tag, *(any_of or [])]) if main is not None else []
    all_tags = _tag_names(all_of or [])
    async with services.pool.acquire() as conn:
        ids = []
        if tags and len(all_tags) == len(all_of or []):
            ids = await public_sql.tag_ids(
                conn,
                tags=tags,
                all_tags=all_tags,
                none_tags=_tag_names(none_of or []),
                viewer_id=viewer_id,
                since=since,
                until=until,
                limit=limit,
                local=origin(local_only, remote_only),
                only_media=only_media,
                ascending=ascending,
            )
            if ascending:
                ids.reverse()
        return await render_page(conn, services.renderings, renderer, ids, viewer_id)


TrimBatch = Callable[[Conn, int], Awaitable[tuple[int | None, int]]]


async def _trim_in_batches(services: Services, trim: TrimBatch) -> int:
    """Run a trim statement over its owners (or lists) in batches of TRIM_BATCH, each
    batch in a connection of its own; the number of entries deleted."""
    after, deleted = 0, 0
    while True:
        async with services.pool.acquire() as conn:
            last, n = await trim(conn, after)
        deleted += n
        if last is None:
            return deleted
        after = last


async def trim_home_timelines(services: Services, *, keep: int = HOME_KEEP) -> int:
    """Trim every home timeline to its newest `keep` entries; the number deleted."""
    deleted = await _trim_in_batches(
        services,
        lambda conn, after: timelines_sql.trim(
            conn, after_owner=after, owners=TRIM_BATCH, keep=keep
        ),
    )
    if deleted:
        log.info("timelines_trimmed entries=%d keep=%d", deleted, keep)
    return deleted


async def trim_list_timelines(services: Services, *, keep: int = LIST_KEEP) -> int:
    """Trim every list's entries to its newest `keep`; the number deleted."""
    deleted = await _trim_in_batches(
        services,
        lambda conn, after: list_timelines_sql.trim(
            conn, after_list=after, lists=TRIM_BATCH, keep=keep
        ),
    )
    if deleted:
        log.info("list_timelines_trimmed entries=%d keep=%d", deleted, keep)
    return deleted
