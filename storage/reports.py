"""SQL for reports (migrations 0009, 0024): made here or received as a Flag, the reported
posts as they were, moderators' notes, resolving and reopening."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.db import Conn


@dataclass(frozen=True)
class Report:
    id: int
    ap_id: str | None  # the Flag's id when another instance sent it
    created_at: datetime
    category: str
    rule_ids: list[int]
    comment: str
    target_id: int
    target_acct: str  # handle, or handle@domain
    target_local: bool
    reporter_id: int | None
    reporter_acct: str | None  # None: the CLI, or an account deleted since
    post_ids: list[int]
    forwarded_at: datetime | None
    resolved_at: datetime | None
    resolved_by_id: int | None
    resolved_by: str | None  # the resolver's handle; None with resolved_at: the CLI
    resolution: str

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def remote(self) -> bool:
        """Sent by another instance (a Flag)."""
        return self.ap_id is not None


@dataclass(frozen=True)
class ReportedPost:
    """A reported post as it was when reported, and what became of it since."""

    post_id: int
    ap_id: str
    url: str | None
    source: str
    html: str
    summary: str
    sensitive: bool
    visibility: str
    media: list[dict[str, Any]]
    posted_at: datetime
    edited_at: datetime | None
    deleted_since: bool  # deleted (or gone with its account) after the report
    edited_since: bool  # edited after the report


@dataclass(frozen=True)
class ReportNote:
    id: int
    report_id: int
    author_account_id: int | None
    author: str
    body: str
    created_at: datetime


@dataclass(frozen=True)
class Rule:
    id: int
    text: str


_COLUMNS = (
    "r.id, r.ap_id, r.created_at, r.category, r.rule_ids, r.comment, r.target_account_id,"
    " CASE WHEN t.domain IS NULL THEN t.handle ELSE t.handle || '@' || t.domain END,"
    " t.domain IS NULL, r.reporter_id,"
    " CASE WHEN ra.domain IS NULL THEN ra.handle ELSE ra.handle || '@' || ra.domain END,"
    " r.post_ids, r.forwarded_at, r.resolved_at, r.resolved_by_id, rb.handle, r.resolution"
    " FROM reports r JOIN accounts t ON t.id = r.target_account_id"
    " LEFT JOIN accounts ra ON ra.id = r.reporter_id"
    " LEFT JOIN accounts rb ON rb.id = r.resolved_by_id"
)


def _report(row: Any) -> Report:
    return Report(*row)


async def insert_report(
    conn: Conn,
    *,
    reporter_id: int | None,
    target_account_id: int,
    post_ids: list[int],
    category: str,
    rule_ids: list[int],
    comment: str,
) -> int:
    report_id: int = await conn.fetchval(
        "INSERT INTO reports (reporter_id, target_account_id, post_ids, category, rule_ids,"
        " comment) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        reporter_id,
        target_account_id,
        post_ids,
        category,
        rule_ids,
        comment,
    )
    return report_id


async def snapshot_posts(conn: Conn, *, report_id: int, post_ids: list[int]) -> int:
    """Keep the posts as they are now with the report (their media in order); how many."""
    if not post_ids:
        return 0
    status: str = await conn.execute(
        "INSERT INTO report_posts (report_id, post_id, ap_id, url, source, html, summary,"
        " sensitive, visibility, media, posted_at, edited_at)"
        " SELECT $1, p.id, p.ap_id, p.url, p.source, p.html, p.summary, p.sensitive,"
        " p.visibility, coalesce((SELECT jsonb_agg(jsonb_build_object("
        "  'url', coalesce(m.url, m.remote_url),"
        "  'preview_url', coalesce(m.small_url, m.remote_preview_url, m.url, m.remote_url),"
        "  'content_type', m.content_type, 'description', m.description)"
        "  ORDER BY m.position, m.id) FROM media m WHERE m.post_id = p.id), '[]'::jsonb),"
        " p.created_at, p.edited_at FROM posts p WHERE p.id = ANY($2::bigint[])"
        " ON CONFLICT DO NOTHING",
        report_id,
        post_ids,
    )
    return int(status.rsplit(" ", 1)[-1])


async def set_forwarded(conn: Conn, *, report_id: int) -> None:
    await conn.execute("UPDATE reports SET forwarded_at = now() WHERE id = $1", report_id)


async def get_report(conn: Conn, *, report_id: int, for_update: bool = False) -> Report | None:
    query = "SELECT " + _COLUMNS + " WHERE r.id = $1"
    if for_update:
        query += " FOR UPDATE OF r"
    row = await conn.fetchrow(query, report_id)
    return _report(row) if row else None


async def list_reports(
    conn: Conn,
    *,
    state: str,
    limit: int,
    before: int | None = None,
    target_account_id: int | None = None,
) -> list[Report]:
    """Newest first; `state` is 'open', 'resolved' or 'all'; `before` pages by id."""
    rows = await conn.fetch(
        "SELECT " + _COLUMNS + " WHERE ($2::bigint IS NULL OR r.id < $2)"
        " AND ($3::bigint IS NULL OR r.target_account_id = $3)"
        " AND ($4 = 'all' OR ($4 = 'open') = (r.resolved_at IS NULL))"
        " ORDER BY r.id DESC LIMIT $1",
        limit,
        before,
        target_account_id,
        state,
    )
    return [_report(row) for row in rows]


async def count_open(conn: Conn) -> int:
    found: int = await conn.fetchval("SELECT count(*) FROM reports WHERE resolved_at IS NULL")
    return found


async def reported_posts(conn: Conn, *, report_id: int) -> list[ReportedPost]:
    """The report's posts as they were, oldest first."""
    rows = await conn.fetch(
        "SELECT s.post_id, s.ap_id, s.url, s.source, s.html, s.summary, s.sensitive,"
        " s.visibility, s.media::text, s.posted_at, s.edited_at,"
        " p.id IS NULL OR p.deleted_at IS NOT NULL,"
        " p.edited_at IS DISTINCT FROM s.edited_at AND p.edited_at IS NOT NULL"
        " FROM report_posts s LEFT JOIN posts p ON p.id = s.post_id"
        " WHERE s.report_id = $1 ORDER BY s.post_id",
        report_id,
    )
    return [
        ReportedPost(
            post_id=row[0],
            ap_id=row[1],
            url=row[2],
            source=row[3],
            html=row[4],
            summary=row[5],
            sensitive=row[6],
            visibility=row[7],
            media=json.loads(row[8]),
            posted_at=row[9],
            edited_at=row[10],
            deleted_since=row[11],
            edited_since=bool(row[12]),
        )
        for row in rows
    ]


async def insert_note(
    conn: Conn, *, report_id: int, author_account_id: int | None, author: str, body: str
) -> ReportNote:
    row = await conn.fetchrow(
        "INSERT INTO report_notes (report_id, author_account_id, author, body)"
        " VALUES ($1, $2, $3, $4)"
        " RETURNING id, report_id, author_account_id, author, body, created_at",
        report_id,
        author_account_id,
        author,
        body,
    )
    assert row is not None  # noqa: S101 - INSERT ... RETURNING gives its row
    return ReportNote(*row)


async def notes(conn: Conn, *, report_id: int) -> list[ReportNote]:
    rows = await conn.fetch(
        "SELECT id, report_id, author_account_id, author, body, created_at FROM report_notes"
        " WHERE report_id = $1 ORDER BY id",
        report_id,
    )
    return [ReportNote(*row) for row in rows]


async def resolve(
    conn: Conn, *, report_id: int, resolved_by_id: int | None, resolution: str
) -> bool:
    """Mark an open report resolved; False when it is not open."""
    found = await conn.fetchval(
        "UPDATE reports SET resolved_at = now(), resolved_by_id = $2, resolution = $3"
        " WHERE id = $1 AND resolved_at IS NULL RETURNING id",
        report_id,
        resolved_by_id,
        resolution,
    )
    return found is not None


async def reopen(conn: Conn, *, report_id: int) -> bool:
    """Open a resolved report again; False when it is not resolved."""
    found = await conn.fetchval(
        "UPDATE reports SET resolved_at = NULL, resolved_by_id = NULL, resolution = ''"
        " WHERE id = $1 AND resolved_at IS NOT NULL RETURNING id",
        report_id,
    )
    return found is not None


# --- the instance's rules --------------------------------------------------------------
# Kept by the rules part of issue 17 (table `instance_rules`); read here only when the
# table exists, so reports work before and after it does.


async def _rules_exist(conn: Conn) -> bool:
    found = await conn.fetchval("SELECT to_regclass('instance_rules') IS NOT NULL")
    return bool(found)


async def rules(conn: Conn) -> list[Rule]:
    """The instance's rules in their order; none when the instance has no rules table."""
    if not await _rules_exist(conn):
        return []
    rows = await conn.fetch("SELECT id, text FROM instance_rules ORDER BY position, id")
    return [Rule(row[0], row[1]) for row in rows]


async def rules_by_id(conn: Conn, *, rule_ids: list[int]) -> dict[int, Rule]:
    if not rule_ids or not await _rules_exist(conn):
        return {}
    rows = await conn.fetch(
        "SELECT id, text FROM instance_rules WHERE id = ANY($1::bigint[])", rule_ids
    )
    return {row[0]: Rule(row[0], row[1]) for row in rows}
