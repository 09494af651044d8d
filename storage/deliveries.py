"""SQL for delivering activities: signing keys, follows' activity ids, per-instance health."""

from __future__ import annotations

from dataclasses import dataclass

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
    """A delivery was answered: the instance is healthy; remember `scheme` when given."""
    await conn.execute(
        "INSERT INTO instances (domain, failures, last_success_at, signature_scheme)"
        " VALUES (lower($1), 0, now(), $2)"
        " ON CONFLICT (domain) DO UPDATE SET failures = 0, last_success_at = now(),"
        " signature_scheme = coalesce(EXCLUDED.signature_scheme, instances.signature_scheme)",
        domain,
        scheme,
    )


async def record_failure(conn: Conn, *, domain: str) -> None:
    """A delivery failed: one more failure in a row for the instance."""
    await conn.execute(
        "INSERT INTO instances (domain, failures, last_failure_at) VALUES (lower($1), 1, now())"
        " ON CONFLICT (domain) DO UPDATE SET failures = instances.failures + 1,"
        " last_failure_at = now()",
        domain,
    )
