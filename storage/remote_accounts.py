"""SQL for accounts of other instances: upsert from an actor document, lookup by key."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from storage.accounts import ACCOUNT_COLUMNS, Account, account_from
from storage.db import Conn


@dataclass(frozen=True)
class RemoteActorRow:
    """What an actor document tells us, ready to store (HTML already sanitised)."""

    ap_id: str
    domain: str
    handle: str
    display_name: str
    bio_html: str
    url: str | None
    inbox_url: str
    shared_inbox_url: str | None
    outbox_url: str | None
    followers_url: str | None
    following_url: str | None
    featured_url: str | None
    public_key_id: str | None
    public_key_pem: str | None
    locked: bool
    bot: bool
    fetched_at: datetime
    avatar_url: str | None = None
    header_url: str | None = None
    # Profile fields: name and value as text, value_html sanitised.
    fields: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class KnownKey:
    """A remote account's public key, as cached on its row."""

    account_id: int
    ap_id: str
    public_key_id: str | None
    public_key_pem: str | None


async def upsert_remote_account(conn: Conn, actor: RemoteActorRow) -> Account | None:
    """Insert or refresh a remote account by its actor id; None when the id is a local one."""
    row = await conn.fetchrow(
        "INSERT INTO accounts AS a (ap_id, domain, handle, display_name, bio_html, url,"
        " inbox_url, shared_inbox_url, outbox_url, followers_url, following_url, featured_url,"
        " public_key_id, public_key_pem, locked, bot, fetched_at, avatar_url, header_url, fields)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,"
        " $18, $19, $20::jsonb)"
        " ON CONFLICT (ap_id) DO UPDATE SET domain = EXCLUDED.domain, handle = EXCLUDED.handle,"
        " display_name = EXCLUDED.display_name, bio_html = EXCLUDED.bio_html,"
        " url = EXCLUDED.url, inbox_url = EXCLUDED.inbox_url,"
        " shared_inbox_url = EXCLUDED.shared_inbox_url, outbox_url = EXCLUDED.outbox_url,"
        " followers_url = EXCLUDED.followers_url, following_url = EXCLUDED.following_url,"
        " featured_url = EXCLUDED.featured_url, public_key_id = EXCLUDED.public_key_id,"
        " public_key_pem = EXCLUDED.public_key_pem, locked = EXCLUDED.locked,"
        " bot = EXCLUDED.bot, fetched_at = EXCLUDED.fetched_at,"
        " avatar_url = EXCLUDED.avatar_url, header_url = EXCLUDED.header_url,"
        " fields = EXCLUDED.fields, updated_at = now()"
        " WHERE a.domain IS NOT NULL"
        " RETURNING " + ACCOUNT_COLUMNS,
        actor.ap_id,
        actor.domain,
        actor.handle,
        actor.display_name,
        actor.bio_html,
        actor.url,
        actor.inbox_url,
        actor.shared_inbox_url,
        actor.outbox_url,
        actor.followers_url,
        actor.following_url,
        actor.featured_url,
        actor.public_key_id,
        actor.public_key_pem,
        actor.locked,
        actor.bot,
        actor.fetched_at,
        actor.avatar_url,
        actor.header_url,
        json.dumps(actor.fields),
    )
    return account_from(row) if row else None


async def find_known_key(conn: Conn, *, key_id: str, actor_id: str) -> KnownKey | None:
    """The remote account owning a key id (or, failing that, the actor the key id names)."""
    row = await conn.fetchrow(
        "SELECT id, ap_id, public_key_id, public_key_pem FROM accounts"
        " WHERE domain IS NOT NULL AND deleted_at IS NULL"
        " AND (public_key_id = $1 OR ap_id = $2)"
        " ORDER BY (public_key_id = $1) DESC NULLS LAST LIMIT 1",
        key_id,
        actor_id,
    )
    return KnownKey(*row) if row else None


async def check_sender(
    conn: Conn, *, domains: list[str], key_id: str, actor_id: str
) -> tuple[bool, KnownKey | None]:
    """In one round trip: whether any of these domains is blocked, and the known key
    (see find_known_key). The inbox asks both of every request it takes."""
    row = await conn.fetchrow(
        "SELECT EXISTS (SELECT 1 FROM instances WHERE domain = ANY($1::text[]) AND blocked),"
        " k.id, k.ap_id, k.public_key_id, k.public_key_pem FROM (SELECT 1) one"
        " LEFT JOIN LATERAL (SELECT id, ap_id, public_key_id, public_key_pem FROM accounts"
        "  WHERE domain IS NOT NULL AND deleted_at IS NULL"
        "  AND (public_key_id = $2 OR ap_id = $3)"
        "  ORDER BY (public_key_id = $2) DESC NULLS LAST LIMIT 1) k ON true",
        domains,
        key_id,
        actor_id,
    )
    assert row is not None  # noqa: S101 - the query always yields one row
    known = KnownKey(row[1], row[2], row[3], row[4]) if row[1] is not None else None
    return bool(row[0]), known


async def find_by_ap_id(conn: Conn, *, ap_id: str) -> Account | None:
    row = await conn.fetchrow(
        "SELECT " + ACCOUNT_COLUMNS + " FROM accounts a WHERE a.ap_id = $1", ap_id
    )
    return account_from(row) if row else None


async def local_ids_by_ap_ids(conn: Conn, *, ap_ids: list[str]) -> list[int]:
    """Ids of live local accounts among these actor ids."""
    rows = await conn.fetch(
        "SELECT id FROM accounts WHERE ap_id = ANY($1::text[]) AND domain IS NULL"
        " AND deleted_at IS NULL AND suspended_at IS NULL ORDER BY id",
        ap_ids,
    )
    return [row["id"] for row in rows]


async def followers_url(conn: Conn, *, account_id: int) -> str | None:
    found: str | None = await conn.fetchval(
        "SELECT followers_url FROM accounts WHERE id = $1", account_id
    )
    return found


async def has_local_followers(conn: Conn, *, account_id: int) -> bool:
    """Whether a live local account follows (accepted) this account."""
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM follows f JOIN accounts a ON a.id = f.follower_id"
        " WHERE f.followee_id = $1 AND f.state = 'accepted' AND a.domain IS NULL"
        " AND a.deleted_at IS NULL)",
        account_id,
    )
    return found
