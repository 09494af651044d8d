"""SQL for the public, local, remote and tag timelines: ids of public original posts,
newest first or (Mastodon's min_id) oldest first."""

from __future__ import annotations

from storage import read_filters as rf
from storage.db import Conn

# ---- public, local and tag timelines ($1 is the viewer or NULL)

# Limited accounts' posts are never on these pages (migration 0023).
_PUBLIC_ORIGINAL = (
    " p.visibility = 'public' AND p.share_of_id IS NULL AND pa.limited_at IS NULL AND"
)
# Domains silenced or suspended (migration 0025), gathered once per page (a few rows):
# their accounts' posts stay out of the public and tag timelines, the domains below
# them too. Local accounts (domain NULL) and pages with no such block skip the check.
_LIMITED = (
    ", limited AS (SELECT coalesce(array_agg(domain), '{}') AS domains FROM domain_blocks"
    " WHERE severity IN ('silence', 'suspend'))"
)
_NOT_LIMITED = (
    " AND (pa.domain IS NULL OR cardinality(l.domains) = 0"
    " OR NOT (stgy_domains_of(pa.domain) && l.domains))"
)
# $5: true for local posts only, false for remote ones only, NULL for both.
_ORIGIN = " AND ($5::boolean IS NULL OR p.local = $5)"
# A post with attachments has one at position 0 (storage.media numbers them from 0).
# A scalar subquery (NULL when none) rather than EXISTS: under an OR the planner may
# make an EXISTS a hashed subplan that reads every attachment row of the database.
_HAS_MEDIA = " (SELECT true FROM media m WHERE m.post_id = p.id AND m.position = 0 LIMIT 1)"
# $6: posts with media only, when true.
_MEDIA_IF_ASKED = " AND (NOT $6::boolean OR" + _HAS_MEDIA + ")"


def _public(order: str) -> str:
    """All public original posts, newest first by posts_public_idx."""
    return (
        "WITH "
        + rf.HIDDEN
        + _LIMITED
        + " SELECT p.id FROM posts p"
        + rf.PAGE_JOINS
        + " CROSS JOIN limited l WHERE"
        + _PUBLIC_ORIGINAL
        + " p.id > coalesce($2::bigint, 0) AND p.id < coalesce($3::bigint, 9223372036854775807)"
        " AND"
        + rf.READ_FILTER
        + _NOT_LIMITED
        + _ORIGIN
        + _MEDIA_IF_ASKED
        + " ORDER BY p.id"
        + order
        + " LIMIT $4"
    )


def _remote(order: str) -> str:
    """Other instances' public original posts, by posts_remote_public_idx (migration
    0031; $5 unused but typed)."""
    return (
        "WITH "
        + rf.HIDDEN
        + _LIMITED
        + " SELECT p.id FROM posts p"
        + rf.PAGE_JOINS
        + " CROSS JOIN limited l WHERE NOT p.local AND"
        + _PUBLIC_ORIGINAL
        + " p.id > coalesce($2::bigint, 0) AND p.id < coalesce($3::bigint, 9223372036854775807)"
        " AND ($5::boolean IS NULL OR NOT $5) AND"
        + rf.READ_FILTER
        + _NOT_LIMITED
        + _MEDIA_IF_ASKED
        + " ORDER BY p.id"
        + order
        + " LIMIT $4"
    )


def _local(order: str) -> str:
    """This instance's public original posts, by posts_local_public_idx ($5 unused but
    typed, so that every public query takes the same arguments)."""
    return (
        "WITH "
        + rf.HIDDEN
        + " SELECT p.id FROM posts p"
        + rf.PAGE_JOINS
        + " WHERE p.local AND"
        + _PUBLIC_ORIGINAL
        + " p.id > coalesce($2::bigint, 0) AND p.id < coalesce($3::bigint, 9223372036854775807)"
        " AND ($5::boolean IS NULL OR $5) AND"
        + rf.READ_FILTER
        + _MEDIA_IF_ASKED
        + " ORDER BY p.id"
        + order
        + " LIMIT $4"
    )


def _with_media(order: str) -> str:
    """Public original posts with attachments, read from the attachments' side
    (media_post_idx, position 0: one row per post), since posts with media may be few
    among all public ones ($6 unused but typed)."""
    return (
        "WITH "
        + rf.HIDDEN
        + _LIMITED
        + " SELECT p.id FROM media m JOIN posts p ON p.id = m.post_id"
        + rf.PAGE_JOINS
        + " CROSS JOIN limited l WHERE m.post_id IS NOT NULL AND m.position = 0"
        " AND m.post_id > coalesce($2::bigint, 0)"
        " AND m.post_id < coalesce($3::bigint, 9223372036854775807) AND $6::boolean AND"
        + _PUBLIC_ORIGINAL
        + rf.READ_FILTER
        + _NOT_LIMITED
        + _ORIGIN
        + " ORDER BY m.post_id"
        + order
        + " LIMIT $4"
    )


_PUBLIC = {order: _public(order) for order in rf.ORDERS}
_LOCAL = {order: _local(order) for order in rf.ORDERS}
_REMOTE = {order: _remote(order) for order in rf.ORDERS}
_WITH_MEDIA = {order: _with_media(order) for order in rf.ORDERS}


async def public_ids(
    conn: Conn,
    *,
    viewer_id: int | None,
    since: int | None,
    until: int | None,
    limit: int,
    local: bool | None = None,
    only_media: bool = False,
    ascending: bool = False,
) -> list[int]:
    """Public original posts of every known account (`local` None), of this instance
    (True) or of other instances (False), those with attachments only when `only_media`:
    the newest `limit` in (since, until), newest first, or the oldest `limit` in
    ascending order when `ascending`."""
    order = rf.order(ascending)
    if only_media:
        query = _WITH_MEDIA[order]
    elif local:
        query = _LOCAL[order]
    elif local is False:
        query = _REMOTE[order]
    else:
        query = _PUBLIC[order]
    rows = await conn.fetch(query, viewer_id, since, until, limit, local, only_media)
    return [row["id"] for row in rows]


def _tagged(order: str) -> str:
    """Public original posts with any of the tags $5 (each read by post_tags' primary key,
    at most $4 per tag, then merged), all of $6 and none of $7, with the filters $8
    (origin) and $9 (media)."""
    return (
        "WITH "
        + rf.HIDDEN
        + _LIMITED
        + " SELECT DISTINCT x.id FROM unnest($5::text[]) w(tag) CROSS JOIN LATERAL ("
        " SELECT p.id FROM post_tags pt JOIN posts p ON p.id = pt.post_id"
        + rf.PAGE_JOINS
        + " CROSS JOIN limited l WHERE pt.tag = w.tag AND"
        + _PUBLIC_ORIGINAL
        + " pt.post_id > coalesce($2::bigint, 0)"
        " AND pt.post_id < coalesce($3::bigint, 9223372036854775807) AND"
        + rf.READ_FILTER
        + _NOT_LIMITED
        # Per-post probes of post_tags' primary key (scalar subqueries, see _HAS_MEDIA).
        + " AND (cardinality($6::text[]) = 0 OR (SELECT count(*) FROM post_tags a"
        "  WHERE a.tag = ANY($6::text[]) AND a.post_id = p.id) = cardinality($6::text[]))"
        " AND (cardinality($7::text[]) = 0 OR (SELECT true FROM post_tags n"
        "  WHERE n.tag = ANY($7::text[]) AND n.post_id = p.id LIMIT 1) IS NULL)"
        " AND ($8::boolean IS NULL OR p.local = $8)"
        " AND (NOT $9::boolean OR" + _HAS_MEDIA + ")"
        " ORDER BY pt.post_id" + order + " LIMIT $4) x"
        " ORDER BY x.id" + order + " LIMIT $4"
    )


_TAGGED = {order: _tagged(order) for order in rf.ORDERS}


async def tag_ids(
    conn: Conn,
    *,
    tags: list[str],
    all_tags: list[str],
    none_tags: list[str],
    viewer_id: int | None,
    since: int | None,
    until: int | None,
    limit: int,
    local: bool | None = None,
    only_media: bool = False,
    ascending: bool = False,
) -> list[int]:
    """Public original posts with any of `tags`, every one of `all_tags` and none of
    `none_tags`; `local` and `only_media` as public_ids. The newest `limit` in (since,
    until), newest first, or the oldest `limit` in ascending order when `ascending`."""
    rows = await conn.fetch(
        _TAGGED[rf.order(ascending)],
        viewer_id,
        since,
        until,
        limit,
        tags,
        all_tags,
        none_tags,
        local,
        only_media,
    )
    return [row["id"] for row in rows]


# Whether one post ($2) is on the public timelines of viewer $1, by the pages' own rule:
# the live streams ask it of each post they are about to send.
PUBLIC_VISIBLE = (
    "WITH "
    + rf.HIDDEN
    + _LIMITED
    + " SELECT EXISTS (SELECT 1 FROM posts p"
    + rf.PAGE_JOINS
    + " CROSS JOIN limited l WHERE p.id = $2 AND"
    + _PUBLIC_ORIGINAL
    + rf.READ_FILTER
    + _NOT_LIMITED
    + ")"
)
