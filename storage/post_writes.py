"""SQL that changes posts: inserts, edits, tombstones, counters, likes, shares, bookmarks."""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Conn


@dataclass(frozen=True)
class NewPost:
    id: int  # from `next_post_id`, so URLs containing it are known before the insert
    account_id: int
    ap_id: str
    url: str | None
    source: str
    html: str
    summary: str
    sensitive: bool
    language: str | None
    visibility: str
    allow_likes: bool
    allow_replies: bool
    tags: list[str]
    in_reply_to_id: int | None
    in_reply_to_ap_id: str | None
    conversation_id: int | None
    local: bool = True


async def next_post_id(conn: Conn) -> int:
    post_id: int = await conn.fetchval("SELECT stgy_next_id()")
    return post_id


async def insert_post(conn: Conn, post: NewPost) -> None:
    await conn.execute(
        "INSERT INTO posts (id, account_id, ap_id, url, source, html, summary, sensitive,"
        " language, visibility, allow_likes, allow_replies, tags, in_reply_to_id,"
        " in_reply_to_ap_id, conversation_id, local)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,"
        " ARRAY(SELECT lower(t) FROM unnest($13::text[]) WITH ORDINALITY AS u(t, i) ORDER BY i),"
        " $14, $15, $16, $17)",
        post.id,
        post.account_id,
        post.ap_id,
        post.url,
        post.source,
        post.html,
        post.summary,
        post.sensitive,
        post.language,
        post.visibility,
        post.allow_likes,
        post.allow_replies,
        post.tags,
        post.in_reply_to_id,
        post.in_reply_to_ap_id,
        post.conversation_id,
        post.local,
    )


async def insert_share(
    conn: Conn, *, share_id: int, account_id: int, share_of_id: int, visibility: str, ap_id: str
) -> bool:
    """A share row; False when the account already has a live share of the post."""
    inserted = await conn.fetchval(
        "INSERT INTO posts (id, account_id, ap_id, share_of_id, visibility, local)"
        " VALUES ($1, $2, $3, $4, $5, true)"
        " ON CONFLICT (account_id, share_of_id) WHERE share_of_id IS NOT NULL"
        " AND deleted_at IS NULL DO NOTHING RETURNING id",
        share_id,
        account_id,
        ap_id,
        share_of_id,
        visibility,
    )
    return inserted is not None


async def remove_share(conn: Conn, *, account_id: int, share_of_id: int) -> int | None:
    """Tombstone an account's live share of a post; its id, or None when there was none."""
    share_id: int | None = await conn.fetchval(
        "UPDATE posts SET deleted_at = now() WHERE account_id = $1 AND share_of_id = $2"
        " AND deleted_at IS NULL RETURNING id",
        account_id,
        share_of_id,
    )
    return share_id


async def set_mentions(conn: Conn, *, post_id: int, account_ids: list[int]) -> None:
    """Make the post's mention rows exactly these accounts."""
    await conn.execute(
        "DELETE FROM mentions WHERE post_id = $1 AND account_id <> ALL($2::bigint[])",
        post_id,
        account_ids,
    )
    await conn.execute(
        "INSERT INTO mentions (post_id, account_id)"
        " SELECT $1::bigint, a FROM unnest($2::bigint[]) a ON CONFLICT DO NOTHING",
        post_id,
        account_ids,
    )


async def set_tags(conn: Conn, *, post_id: int, tags: list[str]) -> None:
    """Make the post's tag rows exactly these tags, marking each as used now."""
    # Sorted, so concurrent posts lock the rows of shared tags in the same order.
    await conn.execute(
        "INSERT INTO tags (name, last_used_at)"
        " SELECT DISTINCT lower(t) AS name, now() FROM unnest($1::text[]) t ORDER BY name"
        " ON CONFLICT (name) DO UPDATE SET last_used_at = now()",
        tags,
    )
    await conn.execute(
        "DELETE FROM post_tags WHERE post_id = $1"
        " AND tag <> ALL(ARRAY(SELECT lower(t) FROM unnest($2::text[]) t))",
        post_id,
        tags,
    )
    await conn.execute(
        "INSERT INTO post_tags (tag, post_id) SELECT DISTINCT lower(t), $1::bigint"
        " FROM unnest($2::text[]) t ON CONFLICT DO NOTHING",
        post_id,
        tags,
    )


async def add_timeline_entry(conn: Conn, *, owner_id: int, post_id: int, author_id: int) -> None:
    await conn.execute(
        "INSERT INTO timeline_entries (owner_id, post_id, author_id) VALUES ($1, $2, $3)"
        " ON CONFLICT DO NOTHING",
        owner_id,
        post_id,
        author_id,
    )


async def change_posts_count(conn: Conn, *, account_id: int, delta: int) -> None:
    await conn.execute(
        "UPDATE accounts SET posts_count = greatest(posts_count + $2, 0) WHERE id = $1",
        account_id,
        delta,
    )


async def change_replies_count(conn: Conn, *, post_id: int, delta: int) -> None:
    await conn.execute(
        "UPDATE posts SET replies_count = greatest(replies_count + $2, 0) WHERE id = $1",
        post_id,
        delta,
    )


async def change_shares_count(conn: Conn, *, post_id: int, delta: int) -> None:
    await conn.execute(
        "UPDATE posts SET shares_count = greatest(shares_count + $2, 0) WHERE id = $1",
        post_id,
        delta,
    )


async def claim_idempotency_key(
    conn: Conn, *, account_id: int, key: str, post_id: int, max_age_seconds: float
) -> bool:
    """Bind a key to a post; False when a fresh binding exists (or a racing one committed)."""
    claimed = await conn.fetchval(
        "INSERT INTO idempotency_keys (account_id, key, post_id) VALUES ($1, $2, $3)"
        " ON CONFLICT (account_id, key) DO UPDATE SET post_id = EXCLUDED.post_id,"
        " created_at = now()"
        " WHERE idempotency_keys.created_at <= now() - make_interval(secs => $4)"
        " RETURNING post_id",
        account_id,
        key,
        post_id,
        max_age_seconds,
    )
    return claimed is not None


async def save_edit(conn: Conn, *, post_id: int) -> None:
    """Keep the current version of a post in its edit history."""
    await conn.execute(
        "INSERT INTO post_edits (post_id, source, html, summary)"
        " SELECT id, source, html, summary FROM posts WHERE id = $1",
        post_id,
    )


async def update_post(
    conn: Conn,
    *,
    post_id: int,
    source: str,
    html: str,
    summary: str,
    sensitive: bool,
    language: str | None,
    tags: list[str],
) -> None:
    await conn.execute(
        "UPDATE posts SET source = $2, html = $3, summary = $4, sensitive = $5, language = $6,"
        " tags = ARRAY(SELECT lower(t) FROM unnest($7::text[]) WITH ORDINALITY AS u(t, i)"
        " ORDER BY i), edited_at = now() WHERE id = $1",
        post_id,
        source,
        html,
        summary,
        sensitive,
        language,
        tags,
    )


async def mark_deleted(conn: Conn, *, post_id: int) -> bool:
    """Tombstone a post; False when it already was one."""
    done = await conn.fetchval(
        "UPDATE posts SET deleted_at = now() WHERE id = $1 AND deleted_at IS NULL RETURNING id",
        post_id,
    )
    return done is not None


async def add_like(conn: Conn, *, account_id: int, post_id: int) -> bool:
    """Like a post and count it; False (and no count) when it was already liked."""
    done = await conn.fetchval(
        "WITH added AS (INSERT INTO likes (account_id, post_id) VALUES ($1, $2)"
        " ON CONFLICT DO NOTHING RETURNING post_id)"
        " UPDATE posts SET likes_count = likes_count + 1"
        " WHERE id IN (SELECT post_id FROM added) RETURNING id",
        account_id,
        post_id,
    )
    return done is not None


async def remove_like(conn: Conn, *, account_id: int, post_id: int) -> bool:
    done = await conn.fetchval(
        "WITH gone AS (DELETE FROM likes WHERE account_id = $1 AND post_id = $2"
        " RETURNING post_id)"
        " UPDATE posts SET likes_count = greatest(likes_count - 1, 0)"
        " WHERE id IN (SELECT post_id FROM gone) RETURNING id",
        account_id,
        post_id,
    )
    return done is not None


async def add_bookmark(conn: Conn, *, account_id: int, post_id: int) -> None:
    await conn.execute(
        "INSERT INTO bookmarks (account_id, post_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        account_id,
        post_id,
    )


async def remove_bookmark(conn: Conn, *, account_id: int, post_id: int) -> None:
    await conn.execute(
        "DELETE FROM bookmarks WHERE account_id = $1 AND post_id = $2", account_id, post_id
    )
