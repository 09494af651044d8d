"""SQL for `media`: uploads and their renditions, post attachments, remote media, cleanup."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from storage.db import Conn


@dataclass(frozen=True)
class Media:
    id: int
    account_id: int
    purpose: str  # attachment | avatar | header
    state: str  # processing | ready | failed
    local: bool
    remote_url: str | None
    remote_preview_url: str | None
    content_type: str
    description: str
    focus_x: float
    focus_y: float
    width: int | None
    height: int | None
    blurhash: str | None
    animated: bool
    url: str | None
    large_url: str | None
    small_url: str | None
    blob_keys: list[str]
    upload_key: str | None
    bytes: int
    error: str | None
    post_id: int | None
    position: int
    cached_at: datetime | None
    created_at: datetime
    processed_at: datetime | None


_NAMES = tuple(f.name for f in dataclasses.fields(Media))
COLUMNS = ", ".join(_NAMES)
# The attachments of post `p`, in order, as one JSON array (for page queries).
POST_MEDIA_JSON = (
    "(SELECT coalesce(json_agg(to_json(md) ORDER BY md.position, md.id), '[]'::json)"
    " FROM media md WHERE md.post_id = p.id)"
)
_TIMES = ("cached_at", "created_at", "processed_at")


def _media(row: asyncpg.Record) -> Media:
    values = dict(row)
    values["blob_keys"] = list(values["blob_keys"])
    return Media(**values)


def media_list_from_json(raw: str | None) -> tuple[Media, ...]:
    """The attachments aggregated by POST_MEDIA_JSON."""
    if not raw:
        return ()
    found = []
    for item in orjson.loads(raw):
        values: dict[str, Any] = {name: item.get(name) for name in _NAMES}
        for name in _TIMES:
            if values[name] is not None:
                values[name] = datetime.fromisoformat(values[name])
        values["blob_keys"] = list(values["blob_keys"] or [])
        found.append(Media(**values))
    return tuple(found)


@dataclass(frozen=True)
class Renditions:
    """What processing made of an upload: the renditions' URLs and keys, and what it read."""

    content_type: str
    width: int
    height: int
    blurhash: str
    animated: bool
    url: str
    large_url: str
    small_url: str
    blob_keys: list[str]
    bytes: int


async def next_media_id(conn: Conn) -> int:
    media_id: int = await conn.fetchval("SELECT stgy_next_id()")
    return media_id


async def insert_upload(
    conn: Conn,
    *,
    media_id: int,
    account_id: int,
    purpose: str,
    description: str,
    focus: tuple[float, float],
    upload_key: str,
    content_type: str,
    size: int,
) -> Media:
    """A local upload waiting for its job (state processing)."""
    row = await conn.fetchrow(
        "INSERT INTO media (id, account_id, purpose, description, focus_x, focus_y, upload_key,"
        " content_type, bytes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING " + COLUMNS,
        media_id,
        account_id,
        purpose,
        description,
        focus[0],
        focus[1],
        upload_key,
        content_type,
        size,
    )
    assert row is not None  # noqa: S101 - INSERT ... RETURNING returns the row
    return _media(row)


async def insert_ready(
    conn: Conn,
    *,
    media_id: int,
    account_id: int,
    purpose: str,
    description: str,
    focus: tuple[float, float],
    made: Renditions,
) -> Media:
    """A local upload processed in the request: ready at once."""
    row = await conn.fetchrow(
        "INSERT INTO media (id, account_id, purpose, description, focus_x, focus_y, state,"
        " content_type, width, height, blurhash, animated, url, large_url, small_url, blob_keys,"
        " bytes, processed_at) VALUES ($1, $2, $3, $4, $5, $6, 'ready', $7, $8, $9, $10, $11,"
        " $12, $13, $14, $15, $16, now()) RETURNING " + COLUMNS,
        media_id,
        account_id,
        purpose,
        description,
        focus[0],
        focus[1],
        made.content_type,
        made.width,
        made.height,
        made.blurhash,
        made.animated,
        made.url,
        made.large_url,
        made.small_url,
        made.blob_keys,
        made.bytes,
    )
    assert row is not None  # noqa: S101 - INSERT ... RETURNING returns the row
    return _media(row)


async def get_media(conn: Conn, *, media_id: int, lock: bool = False) -> Media | None:
    row = await conn.fetchrow(
        "SELECT " + COLUMNS + " FROM media WHERE id = $1" + (" FOR UPDATE" if lock else ""),
        media_id,
    )
    return _media(row) if row else None


async def mark_ready(conn: Conn, *, media_id: int, made: Renditions) -> Media | None:
    """Record the renditions of a processing upload; None when it is not processing."""
    row = await conn.fetchrow(
        "UPDATE media SET state = 'ready', content_type = $2, width = $3, height = $4,"
        " blurhash = $5, animated = $6, url = $7, large_url = $8, small_url = $9,"
        " blob_keys = $10, bytes = $11, upload_key = NULL, error = NULL, processed_at = now()"
        " WHERE id = $1 AND state = 'processing' RETURNING " + COLUMNS,
        media_id,
        made.content_type,
        made.width,
        made.height,
        made.blurhash,
        made.animated,
        made.url,
        made.large_url,
        made.small_url,
        made.blob_keys,
        made.bytes,
    )
    return _media(row) if row else None


async def mark_failed(conn: Conn, *, media_id: int, error: str) -> None:
    await conn.execute(
        "UPDATE media SET state = 'failed', error = $2, upload_key = NULL, processed_at = now()"
        " WHERE id = $1 AND state = 'processing'",
        media_id,
        error[:500],
    )


async def update_description(
    conn: Conn, *, media_id: int, description: str | None, focus: tuple[float, float] | None
) -> Media | None:
    row = await conn.fetchrow(
        "UPDATE media SET description = coalesce($2, description),"
        " focus_x = coalesce($3, focus_x), focus_y = coalesce($4, focus_y)"
        " WHERE id = $1 RETURNING " + COLUMNS,
        media_id,
        description,
        focus[0] if focus else None,
        focus[1] if focus else None,
    )
    return _media(row) if row else None


async def lock_media(conn: Conn, *, media_ids: list[int]) -> dict[int, Media]:
    """The given media rows, locked for this transaction (in id order, against deadlocks)."""
    rows = await conn.fetch(
        "SELECT " + COLUMNS + " FROM media WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE",
        media_ids,
    )
    return {row["id"]: _media(row) for row in rows}


async def set_post_media(conn: Conn, *, post_id: int, media_ids: list[int]) -> None:
    """Make exactly these media the post's attachments, in this order."""
    await conn.execute(
        "UPDATE media SET post_id = NULL, position = 0"
        " WHERE post_id = $1 AND id <> ALL($2::bigint[])",
        post_id,
        media_ids,
    )
    await conn.execute(
        "UPDATE media m SET post_id = $1, position = u.i - 1"
        " FROM unnest($2::bigint[]) WITH ORDINALITY AS u(id, i) WHERE m.id = u.id",
        post_id,
        media_ids,
    )


async def post_media(conn: Conn, *, post_id: int) -> list[Media]:
    rows = await conn.fetch(
        "SELECT " + COLUMNS + " FROM media WHERE post_id = $1 ORDER BY position, id", post_id
    )
    return [_media(row) for row in rows]


async def set_profile_media(
    conn: Conn, *, account_id: int, which: str, media: Media | None
) -> None:
    """Set (or with None, clear) an account's avatar or header and the URL shown for it."""
    media_id = media.id if media else None
    url = media.url if media else None
    if which == "avatar":
        await conn.execute(
            "UPDATE accounts SET avatar_media_id = $2, avatar_url = $3, updated_at = now()"
            " WHERE id = $1",
            account_id,
            media_id,
            url,
        )
    else:
        await conn.execute(
            "UPDATE accounts SET header_media_id = $2, header_url = $3, updated_at = now()"
            " WHERE id = $1",
            account_id,
            media_id,
            url,
        )


async def lock_unattached(conn: Conn, *, older_than_seconds: float, limit: int) -> list[Media]:
    """Local media older than that, on no post and no profile: locked, to be removed."""
    rows = await conn.fetch(
        "SELECT " + COLUMNS + " FROM media m WHERE m.post_id IS NULL AND m.local"
        " AND m.created_at < now() - make_interval(secs => $1)"
        " AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.avatar_media_id = m.id)"
        " AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.header_media_id = m.id)"
        " ORDER BY m.created_at LIMIT $2 FOR UPDATE SKIP LOCKED",
        older_than_seconds,
        limit,
    )
    return [_media(row) for row in rows]


async def delete_media(conn: Conn, *, media_ids: list[int]) -> None:
    await conn.execute("DELETE FROM media WHERE id = ANY($1::bigint[])", media_ids)


async def stale_processing(conn: Conn, *, older_than_seconds: float, limit: int) -> list[int]:
    """Uploads still processing after that long: their job was probably lost."""
    rows = await conn.fetch(
        "SELECT id FROM media WHERE state = 'processing'"
        " AND created_at < now() - make_interval(secs => $1) ORDER BY created_at LIMIT $2",
        older_than_seconds,
        limit,
    )
    return [row["id"] for row in rows]


# --- remote media ---------------------------------------------------------------------


@dataclass(frozen=True)
class RemoteAttachment:
    url: str
    preview_url: str | None
    content_type: str
    description: str
    blurhash: str | None
    width: int | None
    height: int | None
    focus: tuple[float, float]


async def insert_remote(
    conn: Conn, *, account_id: int, post_id: int, attachments: list[RemoteAttachment]
) -> list[int]:
    """Rows for a remote post's attachments, hot-linked (ready at once); their ids in order."""
    ids = []
    for position, item in enumerate(attachments):
        media_id: int = await conn.fetchval(
            "INSERT INTO media (account_id, post_id, position, local, state, remote_url,"
            " remote_preview_url, content_type, description, blurhash, width, height,"
            " focus_x, focus_y, url, large_url, small_url, processed_at)"
            " VALUES ($1, $2, $3, false, 'ready', $4, $5, $6, $7, $8, $9, $10, $11, $12,"
            " $4, $4, coalesce($5, $4), now()) RETURNING id",
            account_id,
            post_id,
            position,
            item.url,
            item.preview_url,
            item.content_type,
            item.description,
            item.blurhash,
            item.width,
            item.height,
            item.focus[0],
            item.focus[1],
        )
        ids.append(media_id)
    return ids


async def set_cached(conn: Conn, *, media_id: int, made: Renditions) -> bool:
    """Point a remote medium at the copies cached here; False when already cached or gone."""
    done = await conn.fetchval(
        "UPDATE media SET url = $2, large_url = $3, small_url = $4, blob_keys = $5,"
        " width = coalesce(width, $6), height = coalesce(height, $7),"
        " blurhash = coalesce(blurhash, $8), bytes = $9, cached_at = now()"
        " WHERE id = $1 AND NOT local AND cached_at IS NULL RETURNING id",
        media_id,
        made.url,
        made.large_url,
        made.small_url,
        made.blob_keys,
        made.width,
        made.height,
        made.blurhash,
        made.bytes,
    )
    return done is not None


async def lock_cached_before(conn: Conn, *, older_than_seconds: float, limit: int) -> list[Media]:
    rows = await conn.fetch(
        "SELECT " + COLUMNS + " FROM media WHERE cached_at IS NOT NULL"
        " AND cached_at < now() - make_interval(secs => $1)"
        " ORDER BY cached_at LIMIT $2 FOR UPDATE SKIP LOCKED",
        older_than_seconds,
        limit,
    )
    return [_media(row) for row in rows]


async def uncache(conn: Conn, *, media_ids: list[int]) -> None:
    """Back to hot-linking the remote URLs; their posts' renderings get a new render_rev
    (they named the cached files)."""
    await conn.execute(
        "WITH m AS (UPDATE media SET url = remote_url, large_url = remote_url,"
        "  small_url = coalesce(remote_preview_url, remote_url), blob_keys = '{}',"
        "  cached_at = NULL WHERE id = ANY($1::bigint[]) AND NOT local RETURNING post_id),"
        " p AS (UPDATE posts SET render_rev = render_rev + 1"
        "  WHERE id IN (SELECT post_id FROM m))"
        " DELETE FROM post_renderings WHERE post_id IN (SELECT post_id FROM m)",
        media_ids,
    )
