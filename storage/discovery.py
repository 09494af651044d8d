"""SQL for finding people through people: the accounts one follows who follow another."""

from __future__ import annotations

from storage.db import Conn


async def familiar_followers(
    conn: Conn, *, viewer_id: int, target_ids: list[int], per_target: int
) -> dict[int, list[int]]:
    """For each target, up to `per_target` accounts the viewer follows that follow it
    (accepted follows both; active accounts), latest follow first."""
    rows = await conn.fetch(
        "SELECT t.id AS target_id, array(SELECT f.follower_id FROM follows f"
        "  JOIN follows mine ON mine.follower_id = $1 AND mine.followee_id = f.follower_id"
        "   AND mine.state = 'accepted'"
        "  JOIN accounts a ON a.id = f.follower_id"
        "   AND a.suspended_at IS NULL AND a.deleted_at IS NULL"
        "  WHERE f.followee_id = t.id AND f.state = 'accepted' AND f.follower_id <> $1"
        "  ORDER BY f.created_at DESC LIMIT $3) AS who"
        " FROM unnest($2::bigint[]) AS t (id)",
        viewer_id,
        target_ids,
        per_target,
    )
    return {row["target_id"]: list(row["who"]) for row in rows}
