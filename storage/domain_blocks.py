"""SQL for domain blocks (migration 0025): the rows, the `instances.blocked` flag a
suspension keeps, and what a suspension cuts (follows, timeline entries)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.db import Conn


@dataclass(frozen=True)
class DomainBlock:
    id: int
    domain: str
    severity: str  # noop | silence | suspend
    reject_media: bool
    reject_reports: bool
    public_comment: str
    private_comment: str
    obfuscate: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class DomainPolicy:
    """What the blocks of a host and the domains above it add up to."""

    severity: str  # the strongest: suspend > silence > noop; "" when none
    reject_media: bool
    reject_reports: bool


@dataclass(frozen=True)
class Cut:
    follows: int
    timeline_entries: int


_COLUMNS = (
    "id, domain, severity, reject_media, reject_reports, public_comment, private_comment,"
    " obfuscate, created_at, updated_at"
)


def _block(row: Any) -> DomainBlock:
    return DomainBlock(*row)


async def list_blocks(conn: Conn) -> list[DomainBlock]:
    rows = await conn.fetch("SELECT " + _COLUMNS + " FROM domain_blocks ORDER BY domain")
    return [_block(row) for row in rows]


async def get_block(conn: Conn, *, block_id: int) -> DomainBlock | None:
    row = await conn.fetchrow("SELECT " + _COLUMNS + " FROM domain_blocks WHERE id = $1", block_id)
    return _block(row) if row else None


async def find_block(conn: Conn, *, domain: str) -> DomainBlock | None:
    row = await conn.fetchrow(
        "SELECT " + _COLUMNS + " FROM domain_blocks WHERE domain = $1", domain
    )
    return _block(row) if row else None


async def insert_block(
    conn: Conn,
    *,
    domain: str,
    severity: str,
    reject_media: bool,
    reject_reports: bool,
    public_comment: str,
    private_comment: str,
    obfuscate: bool,
) -> DomainBlock | None:
    """A new block; None when the domain has one already."""
    row = await conn.fetchrow(
        "INSERT INTO domain_blocks (domain, severity, reject_media, reject_reports,"
        " public_comment, private_comment, obfuscate) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        " ON CONFLICT (domain) DO NOTHING RETURNING " + _COLUMNS,
        domain,
        severity,
        reject_media,
        reject_reports,
        public_comment,
        private_comment,
        obfuscate,
    )
    return _block(row) if row else None


async def update_block(
    conn: Conn,
    *,
    block_id: int,
    severity: str,
    reject_media: bool,
    reject_reports: bool,
    public_comment: str,
    private_comment: str,
    obfuscate: bool,
) -> DomainBlock | None:
    row = await conn.fetchrow(
        "UPDATE domain_blocks SET severity = $2, reject_media = $3, reject_reports = $4,"
        " public_comment = $5, private_comment = $6, obfuscate = $7, updated_at = now()"
        " WHERE id = $1 RETURNING " + _COLUMNS,
        block_id,
        severity,
        reject_media,
        reject_reports,
        public_comment,
        private_comment,
        obfuscate,
    )
    return _block(row) if row else None


async def delete_block(conn: Conn, *, block_id: int) -> DomainBlock | None:
    row = await conn.fetchrow(
        "DELETE FROM domain_blocks WHERE id = $1 RETURNING " + _COLUMNS, block_id
    )
    return _block(row) if row else None


async def set_instance_blocked(conn: Conn, *, domain: str, blocked: bool) -> None:
    """The flag the inbox, signed fetches and delivery check (storage.inbox and
    storage.deliveries read it with the domains above a host)."""
    await conn.execute(
        "INSERT INTO instances (domain, blocked) VALUES ($1, $2)"
        " ON CONFLICT (domain) DO UPDATE SET blocked = EXCLUDED.blocked",
        domain,
        blocked,
    )


async def policy(conn: Conn, *, domains: list[str]) -> DomainPolicy:
    """The blocks of these domains (a host and those above it) taken together."""
    row = await conn.fetchrow(
        "SELECT coalesce(max(CASE severity WHEN 'suspend' THEN 3 WHEN 'silence' THEN 2"
        " ELSE 1 END), 0), coalesce(bool_or(reject_media), false),"
        " coalesce(bool_or(reject_reports), false)"
        " FROM domain_blocks WHERE domain = ANY($1::text[])",
        domains,
    )
    assert row is not None  # noqa: S101 - an aggregate always yields a row
    severity = {3: "suspend", 2: "silence", 1: "noop", 0: ""}[row[0]]
    return DomainPolicy(severity, row[1], row[2])


async def media_rejected_domains(conn: Conn) -> list[str]:
    """Domains whose media is neither cached nor proxied: reject_media, or suspended."""
    rows = await conn.fetch(
        "SELECT domain FROM domain_blocks WHERE reject_media OR severity = 'suspend'"
    )
    return [row[0] for row in rows]


async def cut_domain(conn: Conn, *, domain: str) -> Cut:
    """What a suspension of `domain` (and the domains below it) removes, in two
    statements: every follow between a local account and one of its accounts, both ways
    (the counters follow), and its accounts' posts and shares in home timelines."""
    follows: int = await conn.fetchval(
        "WITH cut AS (DELETE FROM follows f USING accounts a, accounts b"
        "  WHERE a.id = f.follower_id AND b.id = f.followee_id"
        "  AND ((a.domain IS NULL AND $1 = ANY(stgy_domains_of(b.domain)))"
        "   OR (b.domain IS NULL AND $1 = ANY(stgy_domains_of(a.domain))))"
        "  RETURNING f.follower_id, f.followee_id, f.state),"
        " counted AS (SELECT id, sum(following) AS following, sum(followers) AS followers"
        "  FROM (SELECT follower_id AS id, 1 AS following, 0 AS followers FROM cut"
        "   WHERE state = 'accepted' UNION ALL SELECT followee_id, 0, 1 FROM cut"
        "   WHERE state = 'accepted') x GROUP BY id),"
        " recount AS (UPDATE accounts a SET"
        "  following_count = greatest(a.following_count - c.following, 0),"
        "  followers_count = greatest(a.followers_count - c.followers, 0)"
        "  FROM counted c WHERE a.id = c.id RETURNING 1)"
        " SELECT (SELECT count(*) FROM cut) + 0 * (SELECT count(*) FROM recount)",
        domain,
    )
    entries: int = await conn.fetchval(
        "WITH theirs AS (SELECT id FROM accounts WHERE domain IS NOT NULL"
        "  AND $1 = ANY(stgy_domains_of(domain))),"
        " gone AS (DELETE FROM timeline_entries t USING posts p"
        "  LEFT JOIN posts o ON o.id = p.share_of_id WHERE p.id = t.post_id"
        "  AND (p.account_id IN (SELECT id FROM theirs)"
        "   OR o.account_id IN (SELECT id FROM theirs)) RETURNING 1)"
        " SELECT count(*) FROM gone",
        domain,
    )
    return Cut(int(follows), int(entries))
