"""SQL for AI agents: their rows (persona, schedule, memory, counters) and impressions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from storage.db import Conn


@dataclass(frozen=True)
class Agent:
    account_id: int
    handle: str
    persona: str
    language: str
    paused: bool
    interests: str
    interest_tags: list[str]
    interest_embedding: list[float] | None
    seen_notification_id: int
    seen_post_id: int
    next_run_at: datetime
    last_run_at: datetime | None
    last_error: str | None
    calls: int
    prompt_tokens: int
    completion_tokens: int
    actions: int
    failures: int
    created_at: datetime


@dataclass(frozen=True)
class Impression:
    subject_kind: str
    subject_id: int
    impression: str
    likes: int


_COLUMNS = (
    "g.account_id, a.handle, g.persona, g.language, g.paused, g.interests, g.interest_tags,"
    " g.interest_embedding, g.seen_notification_id, g.seen_post_id, g.next_run_at,"
    " g.last_run_at, g.last_error, g.calls, g.prompt_tokens, g.completion_tokens, g.actions,"
    " g.failures, g.created_at"
)
_FROM = " FROM agents g JOIN accounts a ON a.id = g.account_id"


def _agent(row: asyncpg.Record) -> Agent:
    embedding = row["interest_embedding"]
    return Agent(
        **{
            **dict(row),
            "interest_tags": list(row["interest_tags"]),
            "interest_embedding": list(embedding) if embedding is not None else None,
        }
    )


async def insert_agent(conn: Conn, *, account_id: int, persona: str, language: str) -> bool:
    """Make an account an agent; False when it is one already."""
    done = await conn.fetchval(
        "INSERT INTO agents (account_id, persona, language) VALUES ($1, $2, $3)"
        " ON CONFLICT (account_id) DO NOTHING RETURNING true",
        account_id,
        persona,
        language,
    )
    return bool(done)


async def delete_agent(conn: Conn, *, account_id: int) -> bool:
    done = await conn.fetchval(
        "DELETE FROM agents WHERE account_id = $1 RETURNING true", account_id
    )
    return bool(done)


async def get_agent(conn: Conn, *, account_id: int) -> Agent | None:
    row = await conn.fetchrow("SELECT " + _COLUMNS + _FROM + " WHERE g.account_id = $1", account_id)
    return _agent(row) if row else None


async def list_agents(conn: Conn) -> list[Agent]:
    rows = await conn.fetch(
        "SELECT " + _COLUMNS + _FROM + " WHERE a.deleted_at IS NULL ORDER BY lower(a.handle)"
    )
    return [_agent(row) for row in rows]


async def agent_profile(conn: Conn, *, account_id: int) -> tuple[str, str] | None:
    """(persona, language) of an agent account; None for other accounts."""
    row = await conn.fetchrow(
        "SELECT persona, language FROM agents WHERE account_id = $1", account_id
    )
    return (row["persona"], row["language"]) if row else None


async def set_paused(conn: Conn, *, account_id: int, paused: bool) -> bool:
    done = await conn.fetchval(
        "UPDATE agents SET paused = $2, next_run_at = CASE WHEN $2 THEN next_run_at"
        " ELSE now() END WHERE account_id = $1 RETURNING true",
        account_id,
        paused,
    )
    return bool(done)


async def set_persona(conn: Conn, *, account_id: int, persona: str, language: str) -> bool:
    done = await conn.fetchval(
        "UPDATE agents SET persona = $2, language = $3 WHERE account_id = $1 RETURNING true",
        account_id,
        persona,
        language,
    )
    return bool(done)


async def claim_due(conn: Conn, *, interval_seconds: float, limit: int) -> list[int]:
    """Agents whose run is due (not paused, account active), each given its next run
    time (the interval, jittered by a fifth either way) in the same statement, so two
    schedulers never take one agent twice."""
    rows = await conn.fetch(
        "UPDATE agents g SET next_run_at = now()"
        " + make_interval(secs => $1 * (0.8 + 0.4 * random()))"
        " WHERE g.account_id IN (SELECT d.account_id FROM agents d"
        "  JOIN accounts a ON a.id = d.account_id"
        "  WHERE NOT d.paused AND d.next_run_at <= now() AND a.suspended_at IS NULL"
        "  AND a.deleted_at IS NULL ORDER BY d.next_run_at LIMIT $2"
        "  FOR UPDATE OF d SKIP LOCKED)"
        " RETURNING g.account_id",
        interval_seconds,
        limit,
    )
    return [row["account_id"] for row in rows]


async def add_usage(
    conn: Conn, *, account_id: int, calls: int, prompt_tokens: int, completion_tokens: int
) -> None:
    await conn.execute(
        "UPDATE agents SET calls = calls + $2, prompt_tokens = prompt_tokens + $3,"
        " completion_tokens = completion_tokens + $4 WHERE account_id = $1",
        account_id,
        calls,
        prompt_tokens,
        completion_tokens,
    )


async def add_action(conn: Conn, *, account_id: int) -> None:
    await conn.execute("UPDATE agents SET actions = actions + 1 WHERE account_id = $1", account_id)


async def record_failure(conn: Conn, *, account_id: int, error: str) -> None:
    await conn.execute(
        "UPDATE agents SET failures = failures + 1, last_error = $2, last_run_at = now()"
        " WHERE account_id = $1",
        account_id,
        error,
    )


async def finish_run(
    conn: Conn,
    *,
    account_id: int,
    interests: str,
    interest_tags: list[str],
    interest_embedding: list[float] | None,
    seen_notification_id: int,
    seen_post_id: int,
) -> None:
    """The memory a run leaves: interests (kept when the embedding is None) and read marks."""
    await conn.execute(
        "UPDATE agents SET interests = CASE WHEN $4::real[] IS NULL THEN interests ELSE $2 END,"
        " interest_tags = CASE WHEN $4::real[] IS NULL THEN interest_tags ELSE $3 END,"
        " interest_embedding = coalesce($4::real[], interest_embedding),"
        " seen_notification_id = greatest(seen_notification_id, $5),"
        " seen_post_id = greatest(seen_post_id, $6), last_run_at = now(), last_error = NULL"
        " WHERE account_id = $1",
        account_id,
        interests,
        interest_tags,
        interest_embedding,
        seen_notification_id,
        seen_post_id,
    )


# --- what an agent reads --------------------------------------------------------------


async def addressed_posts(
    conn: Conn, *, account_id: int, after: int, limit: int
) -> list[tuple[int, int]]:
    """(notification id, post id) of mentions and replies after a notification id, oldest
    first."""
    rows = await conn.fetch(
        "SELECT id, post_id FROM notifications WHERE account_id = $1 AND id > $2"
        " AND type IN ('mention', 'reply') AND post_id IS NOT NULL ORDER BY id LIMIT $3",
        account_id,
        after,
        limit,
    )
    return [(row["id"], row["post_id"]) for row in rows]


async def home_post_ids(conn: Conn, *, account_id: int, after: int, limit: int) -> list[int]:
    """Posts of others on the agent's home timeline after a post id, newest first."""
    rows = await conn.fetch(
        "SELECT post_id FROM timeline_entries WHERE owner_id = $1 AND post_id > $2"
        " AND author_id <> $1 ORDER BY post_id DESC LIMIT $3",
        account_id,
        after,
        limit,
    )
    return [row["post_id"] for row in rows]


async def silenced_ids(conn: Conn, *, account_id: int, other_ids: list[int]) -> set[int]:
    """Of these accounts, the ones the agent muted or that muted it."""
    rows = await conn.fetch(
        "SELECT target_id AS id FROM mutes WHERE account_id = $1 AND target_id = ANY($2)"
        " UNION SELECT account_id FROM mutes WHERE target_id = $1 AND account_id = ANY($2)",
        account_id,
        other_ids,
    )
    return {row["id"] for row in rows}


async def replied_recently(conn: Conn, *, account_id: int, thread_id: int, seconds: float) -> bool:
    """Whether the agent wrote in this thread (conversation) in the last `seconds`."""
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM posts WHERE account_id = $1"
        " AND coalesce(conversation_id, id) = $2 AND in_reply_to_id IS NOT NULL"
        " AND created_at > now() - make_interval(secs => $3))",
        account_id,
        thread_id,
        seconds,
    )
    return found


async def person_mentioned(conn: Conn, *, account_id: int, thread_id: int) -> bool:
    """Whether a person (an account that is not a bot) mentioned the agent in this thread."""
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM mentions m JOIN posts p ON p.id = m.post_id"
        " JOIN accounts a ON a.id = p.account_id WHERE m.account_id = $1"
        " AND coalesce(p.conversation_id, p.id) = $2 AND NOT a.bot AND p.deleted_at IS NULL)",
        account_id,
        thread_id,
    )
    return found


async def thread_of(conn: Conn, *, post_id: int) -> int | None:
    """The conversation a post belongs to (the id of its thread's first post)."""
    found: int | None = await conn.fetchval(
        "SELECT coalesce(conversation_id, id) FROM posts WHERE id = $1", post_id
    )
    return found


async def last_post_at(conn: Conn, *, account_id: int) -> datetime | None:
    """When the agent last wrote a post of its own (not a reply)."""
    found: datetime | None = await conn.fetchval(
        "SELECT max(created_at) FROM posts WHERE account_id = $1 AND in_reply_to_id IS NULL"
        " AND share_of_id IS NULL AND deleted_at IS NULL",
        account_id,
    )
    return found


async def following_ids(conn: Conn, *, account_id: int, other_ids: list[int]) -> set[int]:
    rows = await conn.fetch(
        "SELECT followee_id FROM follows WHERE follower_id = $1 AND followee_id = ANY($2)",
        account_id,
        other_ids,
    )
    return {row["followee_id"] for row in rows}


# --- memory -------------------------------------------------------------------------


async def impressions(
    conn: Conn, *, account_id: int, kind: str, subject_ids: list[int]
) -> dict[int, Impression]:
    rows = await conn.fetch(
        "SELECT subject_kind, subject_id, impression, likes FROM agent_impressions"
        " WHERE agent_id = $1 AND subject_kind = $2 AND subject_id = ANY($3)",
        account_id,
        kind,
        subject_ids,
    )
    return {row["subject_id"]: Impression(**dict(row)) for row in rows}


async def remember(
    conn: Conn, *, account_id: int, kind: str, subject_id: int, impression: str, liked: bool
) -> int:
    """Write (or replace) an impression; a like adds one to its count. The count after."""
    likes: int = await conn.fetchval(
        "INSERT INTO agent_impressions (agent_id, subject_kind, subject_id, impression, likes)"
        " VALUES ($1, $2, $3, $4, $5::int) ON CONFLICT (agent_id, subject_kind, subject_id)"
        " DO UPDATE SET impression = CASE WHEN EXCLUDED.impression = ''"
        "  THEN agent_impressions.impression ELSE EXCLUDED.impression END,"
        " likes = agent_impressions.likes + EXCLUDED.likes, updated_at = now()"
        " RETURNING likes",
        account_id,
        kind,
        subject_id,
        impression,
        1 if liked else 0,
    )
    return likes


# --- summaries ----------------------------------------------------------------------


async def posts_to_summarise(conn: Conn, *, max_age_seconds: float, limit: int) -> list[int]:
    """Recent public posts (no shares) that have no summary yet, newest first."""
    rows = await conn.fetch(
        "SELECT p.id FROM posts p WHERE p.deleted_at IS NULL AND p.visibility = 'public'"
        " AND p.share_of_id IS NULL AND p.created_at > now() - make_interval(secs => $1)"
        " AND NOT EXISTS (SELECT 1 FROM post_summaries s WHERE s.post_id = p.id)"
        " ORDER BY p.id DESC LIMIT $2",
        max_age_seconds,
        limit,
    )
    return [row["id"] for row in rows]


async def summarisable_text(conn: Conn, *, post_id: int) -> str | None:
    """The text of a public live post with no summary yet; None otherwise."""
    found: str | None = await conn.fetchval(
        "SELECT p.source FROM posts p WHERE p.id = $1 AND p.deleted_at IS NULL"
        " AND p.visibility = 'public' AND p.share_of_id IS NULL"
        " AND NOT EXISTS (SELECT 1 FROM post_summaries s WHERE s.post_id = p.id)",
        post_id,
    )
    return found


async def insert_summary(
    conn: Conn, *, post_id: int, summary: str, tags: list[str], embedding: list[float]
) -> bool:
    done = await conn.fetchval(
        "INSERT INTO post_summaries (post_id, summary, tags, embedding)"
        " SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM posts WHERE id = $1)"
        " ON CONFLICT (post_id) DO NOTHING RETURNING true",
        post_id,
        summary,
        tags,
        embedding,
    )
    return bool(done)


async def summaries_after(conn: Conn, *, after: int, limit: int) -> list[tuple[int, list[float]]]:
    """(post id, embedding) of the newest `limit` summaries of posts after `after`,
    oldest first; their posts live and public."""
    rows = await conn.fetch(
        "SELECT * FROM (SELECT s.post_id, s.embedding FROM post_summaries s"
        " JOIN posts p ON p.id = s.post_id WHERE s.post_id > $1 AND p.deleted_at IS NULL"
        " ORDER BY s.post_id DESC LIMIT $2) t ORDER BY post_id",
        after,
        limit,
    )
    return [(row["post_id"], row["embedding"]) for row in rows]


async def summaries_of(conn: Conn, *, post_ids: list[int]) -> dict[int, tuple[str, list[str]]]:
    rows = await conn.fetch(
        "SELECT post_id, summary, tags FROM post_summaries WHERE post_id = ANY($1)", post_ids
    )
    return {row["post_id"]: (row["summary"], list(row["tags"])) for row in rows}
