"""SQL for accounts (local and remote), users (credentials) and reserved handles."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from storage.db import Conn


@dataclass(frozen=True)
class Account:
    id: int
    handle: str
    domain: str | None
    display_name: str
    bio_source: str
    bio_html: str
    fields: list[dict[str, str]]
    locked: bool
    discoverable: bool
    bot: bool
    ap_id: str
    url: str | None
    inbox_url: str | None
    shared_inbox_url: str | None
    public_key_pem: str | None
    avatar_url: str | None
    header_url: str | None
    posts_count: int
    followers_count: int
    following_count: int
    created_at: datetime
    updated_at: datetime
    suspended_at: datetime | None
    deleted_at: datetime | None

    @property
    def is_local(self) -> bool:
        return self.domain is None

    @property
    def acct(self) -> str:
        return self.handle if self.domain is None else f"{self.handle}@{self.domain}"

    @property
    def active(self) -> bool:
        return self.suspended_at is None and self.deleted_at is None


@dataclass(frozen=True)
class Credentials:
    account_id: int
    password_hash: str
    approved: bool
    role: str
    suspended: bool
    deleted: bool


@dataclass(frozen=True)
class UserRow:
    account_id: int
    handle: str
    email: str
    role: str
    approved: bool
    confirmed_at: datetime | None
    created_at: datetime
    suspended_at: datetime | None
    deleted_at: datetime | None


_ACCOUNT_NAMES = (
    "id", "handle", "domain", "display_name", "bio_source", "bio_html", "fields", "locked",
    "discoverable", "bot", "ap_id", "url", "inbox_url", "shared_inbox_url", "public_key_pem",
    "avatar_url", "header_url", "posts_count", "followers_count", "following_count",
    "created_at", "updated_at", "suspended_at", "deleted_at",
)  # fmt: skip
# Column lists for queries on `accounts a`; the second names them a_<column> for joins.
ACCOUNT_COLUMNS = ", ".join(f"a.{name}" for name in _ACCOUNT_NAMES)
ACCOUNT_COLUMNS_PREFIXED = ", ".join(f"a.{name} AS a_{name}" for name in _ACCOUNT_NAMES)


_FIELDS_AT = _ACCOUNT_NAMES.index("fields")
_KEYS: dict[str, tuple[str, ...]] = {}


def account_from(row: asyncpg.Record, prefix: str = "") -> Account:
    """An Account from a row holding ACCOUNT_COLUMNS (optionally aliased with a prefix)."""
    keys = _KEYS.get(prefix)
    if keys is None:
        keys = _KEYS[prefix] = tuple(prefix + name for name in _ACCOUNT_NAMES)
    values = [row[key] for key in keys]
    fields = values[_FIELDS_AT]
    values[_FIELDS_AT] = orjson.loads(fields) if isinstance(fields, str) else list(fields)
    return Account(*values)


async def handle_taken(conn: Conn, *, handle: str) -> bool:
    """True when a local account has, or once had, this handle (case-insensitively)."""
    taken: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM accounts WHERE lower(handle) = lower($1)"
        " AND domain IS NULL) OR EXISTS (SELECT 1 FROM reserved_handles"
        " WHERE handle_lower = lower($1))",
        handle,
    )
    return taken


async def email_taken(conn: Conn, *, email: str) -> bool:
    taken: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower($1))", email
    )
    return taken


async def insert_local_account(
    conn: Conn,
    *,
    handle: str,
    display_name: str,
    base_url: str,
    public_key_pem: str,
) -> Account:
    """Insert a local account; its ActivityPub URLs derive from the handle it was created with."""
    row = await conn.fetchrow(
        "WITH u AS (SELECT $3 || '/users/' || $1 AS actor)"
        " INSERT INTO accounts (handle, display_name, ap_id, url, inbox_url, shared_inbox_url,"
        " outbox_url, followers_url, following_url, featured_url, public_key_pem, public_key_id)"
        " SELECT $1, $2, actor, $3 || '/@' || $1, actor || '/inbox', $3 || '/inbox',"
        " actor || '/outbox', actor || '/followers', actor || '/following',"
        " actor || '/collections/featured', $4, actor || '#main-key' FROM u"
        " RETURNING " + ACCOUNT_COLUMNS.replace("a.", ""),
        handle,
        display_name,
        base_url,
        public_key_pem,
    )
    assert row is not None  # noqa: S101 - INSERT ... RETURNING returns the row
    return account_from(row)


async def insert_user(
    conn: Conn,
    *,
    account_id: int,
    email: str,
    password_hash: str,
    private_key_pem: str,
    approved: bool,
    role: str = "user",
    registration_reason: str = "",
) -> None:
    await conn.execute(
        "INSERT INTO users (account_id, email, password_hash, private_key_pem, approved, role,"
        " registration_reason) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        account_id,
        email,
        password_hash,
        private_key_pem,
        approved,
        role,
        registration_reason,
    )


async def get_account(conn: Conn, *, account_id: int) -> Account | None:
    row = await conn.fetchrow(
        "SELECT " + ACCOUNT_COLUMNS + " FROM accounts a WHERE a.id = $1", account_id
    )
    return account_from(row) if row else None


async def get_accounts(conn: Conn, *, account_ids: list[int]) -> dict[int, Account]:
    rows = await conn.fetch(
        "SELECT " + ACCOUNT_COLUMNS + " FROM accounts a WHERE a.id = ANY($1::bigint[])",
        account_ids,
    )
    return {row["id"]: account_from(row) for row in rows}


async def find_by_handle(conn: Conn, *, handle: str, domain: str | None) -> Account | None:
    """An account by handle and domain (None: local), case-insensitively."""
    row = await conn.fetchrow(
        "SELECT " + ACCOUNT_COLUMNS + " FROM accounts a"
        " WHERE lower(a.handle) = lower($1) AND coalesce(a.domain, '') = coalesce($2, '')",
        handle,
        domain,
    )
    return account_from(row) if row else None


async def find_by_reserved_handle(conn: Conn, *, handle: str) -> Account | None:
    row = await conn.fetchrow(
        "SELECT " + ACCOUNT_COLUMNS + " FROM reserved_handles r"
        " JOIN accounts a ON a.id = r.account_id WHERE r.handle_lower = lower($1)",
        handle,
    )
    return account_from(row) if row else None


async def find_credentials(conn: Conn, *, login: str) -> Credentials | None:
    """Credentials of a local user by handle or email (case-insensitive)."""
    row = await conn.fetchrow(
        "SELECT u.account_id, u.password_hash, u.approved, u.role,"
        " a.suspended_at IS NOT NULL AS suspended, a.deleted_at IS NOT NULL AS deleted"
        " FROM users u JOIN accounts a ON a.id = u.account_id"
        " WHERE (lower(a.handle) = lower($1) AND a.domain IS NULL) OR lower(u.email) = lower($1)"
        " LIMIT 1",
        login,
    )
    if row is None:
        return None
    return Credentials(
        row["account_id"],
        row["password_hash"],
        row["approved"],
        row["role"],
        row["suspended"],
        row["deleted"],
    )


async def get_credentials(conn: Conn, *, account_id: int) -> Credentials | None:
    row = await conn.fetchrow(
        "SELECT u.account_id, u.password_hash, u.approved, u.role,"
        " a.suspended_at IS NOT NULL AS suspended, a.deleted_at IS NOT NULL AS deleted"
        " FROM users u JOIN accounts a ON a.id = u.account_id WHERE u.account_id = $1",
        account_id,
    )
    if row is None:
        return None
    return Credentials(
        row["account_id"],
        row["password_hash"],
        row["approved"],
        row["role"],
        row["suspended"],
        row["deleted"],
    )


async def set_language(conn: Conn, *, account_id: int, language: str | None) -> None:
    await conn.execute("UPDATE users SET language = $2 WHERE account_id = $1", account_id, language)


async def set_password_hash(conn: Conn, *, account_id: int, password_hash: str) -> None:
    await conn.execute(
        "UPDATE users SET password_hash = $2 WHERE account_id = $1", account_id, password_hash
    )


async def update_profile(conn: Conn, *, account_id: int, changes: dict[str, Any]) -> Account:
    """Update the given profile columns (a fixed set; others are refused)."""
    allowed = ("display_name", "bio_source", "bio_html", "fields", "locked", "handle", "bot")
    unknown = set(changes) - set(allowed)
    if unknown:
        raise ValueError(f"not profile columns: {sorted(unknown)}")
    # One static statement: each column keeps its value unless its flag is set.
    row = await conn.fetchrow(
        "UPDATE accounts a SET"
        " display_name = CASE WHEN $2 THEN $3 ELSE display_name END,"
        " bio_source = CASE WHEN $4 THEN $5 ELSE bio_source END,"
        " bio_html = CASE WHEN $4 THEN $6 ELSE bio_html END,"
        " fields = CASE WHEN $7 THEN $8::jsonb ELSE fields END,"
        " locked = CASE WHEN $9 THEN $10 ELSE locked END,"
        " handle = CASE WHEN $11 THEN $12 ELSE handle END,"
        " bot = CASE WHEN $13 THEN $14 ELSE bot END,"
        " updated_at = now()"
        " WHERE a.id = $1 RETURNING " + ACCOUNT_COLUMNS,
        account_id,
        "display_name" in changes,
        changes.get("display_name", ""),
        "bio_source" in changes,
        changes.get("bio_source", ""),
        changes.get("bio_html", ""),
        "fields" in changes,
        json.dumps(changes.get("fields", [])),
        "locked" in changes,
        bool(changes.get("locked", False)),
        "handle" in changes,
        changes.get("handle", ""),
        "bot" in changes,
        bool(changes.get("bot", False)),
    )
    assert row is not None  # noqa: S101
    return account_from(row)


async def reserve_handle(conn: Conn, *, account_id: int, handle: str) -> None:
    await conn.execute(
        "INSERT INTO reserved_handles (handle_lower, account_id) VALUES (lower($1), $2)"
        " ON CONFLICT (handle_lower) DO NOTHING",
        handle,
        account_id,
    )


async def mark_deleted(conn: Conn, *, account_id: int) -> None:
    await conn.execute(
        "UPDATE accounts SET deleted_at = now(), updated_at = now() WHERE id = $1", account_id
    )


async def set_suspended(conn: Conn, *, account_id: int, suspended: bool) -> bool:
    result = await conn.execute(
        "UPDATE accounts SET suspended_at = CASE WHEN $2 THEN now() ELSE NULL END,"
        " updated_at = now() WHERE id = $1 AND domain IS NULL",
        account_id,
        suspended,
    )
    return result.endswith(" 1")


async def list_users(conn: Conn, *, limit: int, offset: int) -> list[UserRow]:
    rows = await conn.fetch(
        "SELECT u.account_id, a.handle, u.email, u.role, u.approved, u.confirmed_at,"
        " u.created_at, a.suspended_at, a.deleted_at FROM users u"
        " JOIN accounts a ON a.id = u.account_id ORDER BY u.account_id LIMIT $1 OFFSET $2",
        limit,
        offset,
    )
    return [UserRow(*row) for row in rows]


async def private_key_of(conn: Conn, *, account_id: int) -> str | None:
    key: str | None = await conn.fetchval(
        "SELECT private_key_pem FROM users WHERE account_id = $1", account_id
    )
    return key


async def purge_content(conn: Conn, *, account_id: int) -> None:
    """Tombstone a deleted account's posts and drop its follows and timeline rows."""
    await conn.execute(
        "UPDATE posts SET deleted_at = now() WHERE account_id = $1 AND deleted_at IS NULL",
        account_id,
    )
    await conn.execute(
        "DELETE FROM timeline_entries WHERE owner_id = $1 OR author_id = $1", account_id
    )
    await conn.execute(
        "WITH gone AS (DELETE FROM follows WHERE follower_id = $1 AND state = 'accepted'"
        " RETURNING followee_id)"
        " UPDATE accounts SET followers_count = greatest(followers_count - 1, 0)"
        " WHERE id IN (SELECT followee_id FROM gone)",
        account_id,
    )
    await conn.execute(
        "WITH gone AS (DELETE FROM follows WHERE followee_id = $1 AND state = 'accepted'"
        " RETURNING follower_id)"
        " UPDATE accounts SET following_count = greatest(following_count - 1, 0)"
        " WHERE id IN (SELECT follower_id FROM gone)",
        account_id,
    )
    await conn.execute("DELETE FROM follows WHERE follower_id = $1 OR followee_id = $1", account_id)
    await conn.execute(
        "UPDATE accounts SET posts_count = 0, followers_count = 0, following_count = 0"
        " WHERE id = $1",
        account_id,
    )


async def set_role(conn: Conn, *, account_id: int, role: str) -> None:
    await conn.execute("UPDATE users SET role = $2 WHERE account_id = $1", account_id, role)
