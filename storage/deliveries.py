"""SQL for delivering activities: signing keys, follows' activity ids, per-instance health."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import Conn


@dataclass(frozen=True)
class SigningKey:
    key_id: str
    private_key_pem: str


async def signing_key(conn: Conn, *, account_id: int) -> SigningKey | None:
    """A local account's key id and private key; None for a remote or unknown account."""
    row = await conn.fetchrow(
        "SELECT a.public_key_id, u.private_key_pem FROM accounts a"
        " JOIN users u ON u.account_id = a.id"
        " WHERE a.id = $1 AND a.public_key_id IS NOT NULL AND u.private_key_pem IS NOT NULL",
        account_id,
    )
    return SigningKey(row[0], row[1]) if row else None


@dataclass(frozen=True)
class InstanceHealth:
    """What delivery needs to know of an instance (all defaults when never seen)."""

    unavailable: bool
    signature_scheme: str | None
    failures: int
    last_success_at: datetime | None
    blocked: bool  # the instance, or a domain above it, is blocked


async def instance_health(conn: Conn, *, domain: str, domains: list[str]) -> InstanceHealth:
    """`domains`: the instance's domain and those above it (blocks cover subdomains)."""
    row = await conn.fetchrow(
        "SELECT coalesce(i.unavailable_since IS NOT NULL, false), i.signature_scheme,"
        " coalesce(i.failures, 0), i.last_success_at,"
        " EXISTS (SELECT 1 FROM instances b WHERE b.domain = ANY($2::text[]) AND b.blocked)"
        " FROM (SELECT 1) AS one LEFT JOIN instances i ON i.domain = lower($1)",
        domain,
        domains,
    )
    assert row is not None  # noqa: S101 - one row whatever is found
    return InstanceHealth(*row)


async def follow_ap_id(conn: Conn, *, follower_id: int, followee_id: int) -> str | None:
    """The id of the Follow activity that made this follow, when one was remembered."""
    found: str | None = await conn.fetchval(
        "SELECT ap_id FROM follows WHERE follower_id = $1 AND followee_id = $2",
        follower_id,
        followee_id,
    )
    return found


async def signature_scheme(conn: Conn, *, domain: str) -> str | None:
    """The signature scheme an instance is known to accept, None when not known yet."""
    found: str | None = await conn.fetchval(
        "SELECT signature_scheme FROM instances WHERE domain = lower($1)", domain
    )
    return found


async def record_success(conn: Conn, *, domain: str, scheme: str | None) -> None:
    """A delivery was answered: the instance is healthy (and available again); remember
    `scheme` when given."""
    await conn.execute(
        "INSERT INTO instances (domain, failures, last_success_at, signature_scheme)"
        " VALUES (lower($1), 0, now(), $2)"
        " ON CONFLICT (domain) DO UPDATE SET failures = 0, last_success_at = now(),"
        " failing_since = NULL, unavailable_since = NULL,"
        " signature_scheme = coalesce(EXCLUDED.signature_scheme, instances.signature_scheme)",
        domain,
        scheme,
    )


async def record_failure(conn: Conn, *, domain: str, unavailable_after_seconds: float) -> bool:
    """A delivery failed: one more failure in a row for the instance. Once it has been
    failing for `unavailable_after_seconds` it is marked unavailable; True when it is."""
    unavailable: bool = await conn.fetchval(
        "INSERT INTO instances (domain, failures, last_failure_at, failing_since)"
        " VALUES (lower($1), 1, now(), now())"
        " ON CONFLICT (domain) DO UPDATE SET failures = instances.failures + 1,"
        " last_failure_at = now(),"
        " failing_since = coalesce(instances.failing_since, now()),"
        " unavailable_since = coalesce(instances.unavailable_since, CASE"
        "   WHEN instances.failing_since < now() - make_interval(secs => $2) THEN now() END)"
        " RETURNING unavailable_since IS NOT NULL",
        domain,
        unavailable_after_seconds,
    )
    return unavailable


async def is_unavailable(conn: Conn, *, domain: str) -> bool:
    found: bool | None = await conn.fetchval(
        "SELECT unavailable_since IS NOT NULL FROM instances WHERE domain = lower($1)", domain
    )
    return bool(found)


async def unavailable_domains(conn: Conn, *, limit: int) -> list[str]:
    """Instances skipped as unavailable, those probed longest ago first."""
    rows = await conn.fetch(
        "SELECT domain FROM instances WHERE unavailable_since IS NOT NULL AND NOT blocked"
        " ORDER BY last_failure_at NULLS FIRST LIMIT $1",
        limit,
    )
    return [row["domain"] for row in rows]


async def record_probe_failure(conn: Conn, *, domain: str) -> None:
    await conn.execute(
        "UPDATE instances SET last_failure_at = now() WHERE domain = lower($1)", domain
    )


# Inboxes to deliver to: live remote accounts on instances neither blocked nor
# unavailable, an account's shared inbox standing for its own (collapsed by DISTINCT).
_INBOX = "coalesce(a.shared_inbox_url, a.inbox_url)"
_DELIVERABLE = (
    " a.domain IS NOT NULL AND a.deleted_at IS NULL AND " + _INBOX + " IS NOT NULL"
    " AND NOT EXISTS (SELECT 1 FROM instances i WHERE i.domain = a.domain"
    " AND i.unavailable_since IS NOT NULL)"
    # A block covers the domains below it (blocking example.com blocks a.example.com).
    " AND NOT EXISTS (SELECT 1 FROM instances b WHERE b.blocked"
    " AND (b.domain = a.domain OR a.domain LIKE '%.' || b.domain))"
)


async def follower_inboxes(conn: Conn, *, account_id: int) -> list[str]:
    """The distinct inboxes of an account's accepted remote followers."""
    rows = await conn.fetch(
        "SELECT DISTINCT " + _INBOX + " AS inbox FROM follows f"
        " JOIN accounts a ON a.id = f.follower_id"
        " WHERE f.followee_id = $1 AND f.state = 'accepted' AND" + _DELIVERABLE,
        account_id,
    )
    return sorted(row["inbox"] for row in rows)


async def inboxes_of(conn: Conn, *, ap_ids: list[str]) -> list[str]:
    """The distinct inboxes of the remote accounts with these ActivityPub ids."""
    if not ap_ids:
        return []
    rows = await conn.fetch(
        "SELECT DISTINCT " + _INBOX + " AS inbox FROM accounts a"
        " WHERE a.ap_id = ANY($1::text[]) AND" + _DELIVERABLE,
        ap_ids,
    )
    return sorted(row["inbox"] for row in rows)


async def personal_inbox(conn: Conn, *, account_id: int) -> str | None:
    """A remote account's inbox (its own, for activities meant for it alone, e.g. Follow)."""
    found: str | None = await conn.fetchval(
        "SELECT coalesce(a.inbox_url, a.shared_inbox_url) FROM accounts a"
        " WHERE a.id = $1 AND" + _DELIVERABLE,
        account_id,
    )
    return found


async def author_ap_id_of_post(conn: Conn, *, post_ap_id: str) -> str | None:
    found: str | None = await conn.fetchval(
        "SELECT a.ap_id FROM posts p JOIN accounts a ON a.id = p.account_id WHERE p.ap_id = $1",
        post_ap_id,
    )
    return found


async def following_inboxes(conn: Conn, *, account_id: int) -> list[str]:
    """The distinct inboxes of the remote accounts an account follows or asked to follow."""
    rows = await conn.fetch(
        "SELECT DISTINCT " + _INBOX + " AS inbox FROM follows f"
        " JOIN accounts a ON a.id = f.followee_id WHERE f.follower_id = $1 AND" + _DELIVERABLE,
        account_id,
    )
    return sorted(row["inbox"] for row in rows)


async def like_ap_id(conn: Conn, *, account_id: int, post_id: int) -> str | None:
    found: str | None = await conn.fetchval(
        "SELECT ap_id FROM likes WHERE account_id = $1 AND post_id = $2", account_id, post_id
    )
    return found


async def set_block_ap_id(conn: Conn, *, account_id: int, target_id: int, ap_id: str) -> None:
    await conn.execute(
        "UPDATE blocks SET ap_id = $3 WHERE account_id = $1 AND target_id = $2"
        " AND ap_id IS NULL AND NOT EXISTS (SELECT 1 FROM blocks WHERE ap_id = $3)",
        account_id,
        target_id,
        ap_id,
    )


async def block_ap_id(conn: Conn, *, account_id: int, target_id: int) -> str | None:
    found: str | None = await conn.fetchval(
        "SELECT ap_id FROM blocks WHERE account_id = $1 AND target_id = $2",
        account_id,
        target_id,
    )
    return found


@dataclass(frozen=True)
class InstanceCounts:
    failing: int  # instances whose last deliveries failed (failures > 0)
    unavailable: int  # skipped until they answer again


async def instance_counts(conn: Conn) -> InstanceCounts:
    row = await conn.fetchrow(
        "SELECT count(*) FILTER (WHERE failures > 0),"
        " count(*) FILTER (WHERE unavailable_since IS NOT NULL) FROM instances"
    )
    assert row is not None  # noqa: S101 - an aggregate always gives one row
    return InstanceCounts(failing=row[0], unavailable=row[1])
