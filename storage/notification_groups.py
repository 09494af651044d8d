"""SQL for grouped notifications (migration 0033's `group_key`): each group's totals, its
members, dismissing a group, and the unread count after a marker."""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Conn
from storage.notifications import COLUMNS, SHOWN, Notification, notification_from

SAMPLE_ACCOUNTS = 8  # as Mastodon's sample_account_ids


@dataclass(frozen=True)
class GroupTotal:
    key: str
    count: int
    newest_id: int
    sample_account_ids: list[int]  # the latest actors first


async def totals(conn: Conn, *, account_id: int, keys: list[str]) -> dict[str, GroupTotal]:
    """Every notification of each group the recipient still sees, counted (one index scan
    per group)."""
    rows = await conn.fetch(
        "SELECT n.group_key, count(*) AS count, max(n.id) AS newest,"
        " (array_agg(n.from_account_id ORDER BY n.id DESC))[1:$3] AS sample"
        " FROM notifications n WHERE n.account_id = $1 AND n.group_key = ANY($2::text[])"
        + SHOWN
        + " GROUP BY n.group_key",
        account_id,
        keys,
        SAMPLE_ACCOUNTS,
    )
    found: dict[str, GroupTotal] = {}
    for row in rows:
        sample = list(dict.fromkeys(row["sample"]))  # an actor once, however often
        found[row["group_key"]] = GroupTotal(row["group_key"], row["count"], row["newest"], sample)
    return found


async def members(conn: Conn, *, account_id: int, key: str, limit: int) -> list[Notification]:
    """The group's notifications the recipient still sees, newest first."""
    rows = await conn.fetch(
        "SELECT " + COLUMNS + " FROM notifications n WHERE n.account_id = $1"
        " AND n.group_key = $2" + SHOWN + " ORDER BY n.id DESC LIMIT $3",
        account_id,
        key,
        limit,
    )
    return [notification_from(row) for row in rows]


async def dismiss(conn: Conn, *, account_id: int, key: str) -> int:
    result = await conn.execute(
        "DELETE FROM notifications WHERE account_id = $1 AND group_key = $2", account_id, key
    )
    return int(result.split()[-1])


async def unread_count(
    conn: Conn,
    *,
    account_id: int,
    after: int,
    types: list[str] | None,
    exclude_types: list[str] | None,
    grouped: bool,
    cap: int,
) -> int:
    """Notifications (or, `grouped`, groups of them) newer than `after`, at most `cap`."""
    count: int = await conn.fetchval(
        "SELECT count(DISTINCT CASE WHEN $6 THEN n.group_key ELSE n.id::text END) FROM"
        " (SELECT n.id, n.group_key FROM notifications n WHERE n.account_id = $1 AND n.id > $2"
        " AND ($3::text[] IS NULL OR n.type = ANY($3::text[]))"
        " AND ($4::text[] IS NULL OR n.type <> ALL($4::text[]))"
        + SHOWN
        + " ORDER BY n.id DESC LIMIT $5) n",
        account_id,
        after,
        types,
        exclude_types,
        cap,
        grouped,
    )
    return count
