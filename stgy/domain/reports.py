"""Reports (issue 17): people report an account and some of its posts, from the web UI,
the native API or the CLI, optionally forwarded to the account's instance as a Flag;
other instances' Flags become reports too (stgy/domain/remote/inbox_social.py).
Moderators read them with the posts as they were when reported and the account's
history, write notes to each other, resolve and reopen them. Every change writes its
audit row in its own transaction (stgy/domain/audit.py)."""

from __future__ import annotations

from dataclasses import dataclass

from stgy.domain import audit, roles
from stgy.domain.errors import Conflict, Invalid, NotFound
from stgy.domain.remote import report_flags
from stgy.domain.roles import Staff
from stgy.domain.text import check_storable
from stgy.services import Services
from storage import accounts as accounts_sql
from storage import audit as audit_sql
from storage import posts as posts_sql
from storage import reports as reports_sql
from storage.accounts import Account
from storage.audit import AuditEntry
from storage.db import Conn
from storage.posts import PostView
from storage.reports import Report, ReportedPost, ReportNote, Rule

__all__ = [
    "CATEGORIES",
    "NewReport",
    "Report",
    "ReportDetail",
    "ReportForm",
    "ReportNote",
    "ReportedPost",
    "Rule",
    "add_note",
    "create_report",
    "get_report",
    "list_reports",
    "reopen",
    "report_form",
    "resolve",
]

CATEGORIES = ("spam", "illegal", "violation", "other")
STATES = ("open", "resolved", "all")
MAX_COMMENT = 1000  # as Mastodon's
MAX_POSTS = 20
MAX_NOTE = 5000
MAX_PAGE = 100
HISTORY = 20  # other reports and actions shown with a report


@dataclass(frozen=True)
class NewReport:
    account_id: int
    post_ids: tuple[int, ...] = ()
    category: str = "other"
    rule_ids: tuple[int, ...] = ()
    comment: str = ""
    forward: bool = False  # send it to the account's instance (a remote account only)


@dataclass(frozen=True)
class ReportForm:
    """What the report form offers: the account, the posts named, the rules."""

    account: Account
    posts: list[PostView]
    rules: list[Rule]


@dataclass(frozen=True)
class ReportDetail:
    """A report as moderators handle it."""

    report: Report
    posts: list[ReportedPost]  # as they were when reported
    rules: list[Rule]  # the rules it names that still exist
    notes: list[ReportNote]  # oldest first
    log: list[AuditEntry]  # what staff did to this report, newest first
    other_reports: list[Report]  # about the same account, newest first
    account_actions: list[AuditEntry]  # staff actions on the account, newest first


# --- reporting --------------------------------------------------------------------------


def _check_text(field: str, value: str, limit: int) -> str:
    check_storable(field, value)
    text = value.strip()
    if len(text) > limit:
        raise Invalid(field, f"at most {limit} characters")
    return text


async def _target(conn: Conn, account_id: int, reporter_id: int | None) -> Account:
    account = await accounts_sql.get_account(conn, account_id=account_id)
    if account is None or account.deleted_at is not None:
        raise NotFound("no such account")
    if account.id == reporter_id:
        raise Invalid("account_id", "you cannot report yourself")
    return account


async def _reported_posts(
    conn: Conn, target: Account, post_ids: tuple[int, ...], reporter_id: int | None
) -> list[PostView]:
    """The posts named, each a live post (not a share) of the account that the reporter
    may see (the CLI: any live one)."""
    wanted = list(dict.fromkeys(post_ids))
    if len(wanted) > MAX_POSTS:
        raise Invalid("post_ids", f"at most {MAX_POSTS} posts")
    views = await posts_sql.load_views(conn, post_ids=wanted, viewer_id=reporter_id)
    found = []
    for post_id in wanted:
        view = views.get(post_id)
        if (
            view is None
            or view.account.id != target.id
            or view.share_of_id is not None
            or view.deleted_at is not None
            or (reporter_id is not None and not view.shown)
        ):
            raise Invalid("post_ids", f"{post_id} is not a post of this account you can see")
        found.append(view)
    return found


async def _checked_rules(conn: Conn, category: str, rule_ids: tuple[int, ...]) -> list[int]:
    if category not in CATEGORIES:
        raise Invalid("category", f"one of {', '.join(CATEGORIES)}")
    wanted = list(dict.fromkeys(rule_ids))
    if category != "violation":
        if wanted:
            raise Invalid("rule_ids", "only with the category violation")
        return []
    known = {rule.id for rule in await reports_sql.rules(conn)}
    if known and not wanted:
        raise Invalid("rule_ids", "name the rules the account broke")
    unknown = [rule_id for rule_id in wanted if rule_id not in known]
    if unknown:
        raise Invalid("rule_ids", f"no such rule: {unknown[0]}")
    return wanted


async def create_report(services: Services, reporter_id: int | None, new: NewReport) -> Report:
    """A report by a local account (`reporter_id`; None: the CLI), with its posts kept as
    they are now, forwarded when asked, and its audit row: one transaction."""
    comment = _check_text("comment", new.comment, MAX_COMMENT)
    async with services.pool.acquire() as conn:
        async with conn.transaction():
            target = await _target(conn, new.account_id, reporter_id)
            posts = await _reported_posts(conn, target, new.post_ids, reporter_id)
            rule_ids = await _checked_rules(conn, new.category, new.rule_ids)
            report_id = await reports_sql.insert_report(
                conn,
                reporter_id=reporter_id,
                target_account_id=target.id,
                post_ids=[post.id for post in posts],
                category=new.category,
                rule_ids=rule_ids,
                comment=comment,
            )
            await reports_sql.snapshot_posts(
                conn, report_id=report_id, post_ids=[post.id for post in posts]
            )
            if new.forward:
                await report_flags.forward_report(
                    conn,
                    services,
                    report_id=report_id,
                    target=target,
                    post_ap_ids=[post.ap_id for post in posts],
                    comment=comment,
                )
                await reports_sql.set_forwarded(conn, report_id=report_id)
            actor_id, actor = await _reporter(conn, reporter_id)
            await audit_sql.record(
                conn,
                actor_account_id=actor_id,
                actor=actor,
                action="report.create",
                target_type="report",
                target=str(report_id),
                comment=comment,
                details={
                    "account_id": str(target.id),
                    "account": target.acct,
                    "category": new.category,
                    "rule_ids": rule_ids,
                    "post_ids": [str(post.id) for post in posts],
                    "forwarded": new.forward,
                },
            )
            made = await reports_sql.get_report(conn, report_id=report_id)
    assert made is not None  # noqa: S101 - written above in this transaction
    return made


async def _reporter(conn: Conn, reporter_id: int | None) -> tuple[int | None, str]:
    """The audit row's actor (account id, handle) for a reporter; the CLI's for None."""
    if reporter_id is None:
        return None, roles.CLI.handle
    account = await accounts_sql.get_account(conn, account_id=reporter_id)
    return reporter_id, account.handle if account is not None else str(reporter_id)


async def report_form(
    services: Services,
    reporter_id: int,
    account_id: int,
    post_ids: tuple[int, ...],
    *,
    skip_unreportable: bool = False,
) -> ReportForm:
    """What the form to report `account_id` (and these posts) shows. With
    `skip_unreportable` (the form shown again after an error), posts that cannot be
    reported any more (deleted since) are left out rather than refused."""
    async with services.pool.acquire() as conn:
        target = await _target(conn, account_id, reporter_id)
        if skip_unreportable:
            posts = []
            for post_id in post_ids[:MAX_POSTS]:
                try:
                    posts += await _reported_posts(conn, target, (post_id,), reporter_id)
                except Invalid:
                    continue
        else:
            posts = await _reported_posts(conn, target, post_ids, reporter_id)
        rules = await reports_sql.rules(conn)
    return ReportForm(target, posts, rules)


# --- handling (moderators) --------------------------------------------------------------


async def list_reports(
    services: Services,
    staff: Staff,
    *,
    state: str = "open",
    limit: int = 50,
    before: int | None = None,
    account_id: int | None = None,
) -> list[Report]:
    """Reports newest first: open, resolved or all; optionally about one account."""
    roles.require(staff, roles.MODERATOR)
    if state not in STATES:
        raise Invalid("state", f"one of {', '.join(STATES)}")
    async with services.pool.acquire() as conn:
        return await reports_sql.list_reports(
            conn,
            state=state,
            limit=max(1, min(limit, MAX_PAGE)),
            before=before,
            target_account_id=account_id,
        )


async def get_report(services: Services, staff: Staff, report_id: int) -> ReportDetail:
    roles.require(staff, roles.MODERATOR)
    async with services.pool.acquire() as conn:
        report = await reports_sql.get_report(conn, report_id=report_id)
        if report is None:
            raise NotFound("no such report")
        posts = await reports_sql.reported_posts(conn, report_id=report_id)
        rules = await reports_sql.rules_by_id(conn, rule_ids=report.rule_ids)
        notes = await reports_sql.notes(conn, report_id=report_id)
        log = await audit_sql.entries(
            conn, limit=HISTORY, before=None, target_type="report", target=str(report_id)
        )
        others = await reports_sql.list_reports(
            conn, state="all", limit=HISTORY + 1, target_account_id=report.target_id
        )
        actions = await audit_sql.entries(
            conn,
            limit=HISTORY,
            before=None,
            target_type="account",
            target=str(report.target_id),
        )
    return ReportDetail(
        report,
        posts,
        [rules[i] for i in report.rule_ids if i in rules],
        notes,
        log,
        [other for other in others if other.id != report_id][:HISTORY],
        actions,
    )


async def _open_for_change(conn: Conn, report_id: int) -> Report:
    report = await reports_sql.get_report(conn, report_id=report_id, for_update=True)
    if report is None:
        raise NotFound("no such report")
    return report


async def add_note(services: Services, staff: Staff, report_id: int, body: str) -> ReportNote:
    """A note for the other moderators (never shown to the reporter or the account)."""
    roles.require(staff, roles.MODERATOR)
    text = _check_text("body", body, MAX_NOTE)
    if not text:
        raise Invalid("body", "required")
    async with services.pool.acquire() as conn:
        async with conn.transaction():
            await _open_for_change(conn, report_id)
            note = await reports_sql.insert_note(
                conn,
                report_id=report_id,
                author_account_id=staff.account_id,
                author=staff.handle,
                body=text,
            )
            await _audit(conn, staff, "report.note", report_id, text, note_id=str(note.id))
    return note


async def resolve(services: Services, staff: Staff, report_id: int, comment: str = "") -> Report:
    """Close an open report, saying why (Conflict when it is resolved already). Acting on
    the account is a step of its own (/admin/accounts/<id>)."""
    roles.require(staff, roles.MODERATOR)
    text = _check_text("comment", comment, MAX_COMMENT)
    async with services.pool.acquire() as conn:
        async with conn.transaction():
            report = await _open_for_change(conn, report_id)
            if not report.is_open:
                raise Conflict("the report is resolved already")
            await reports_sql.resolve(
                conn, report_id=report_id, resolved_by_id=staff.account_id, resolution=text
            )
            await _audit(conn, staff, "report.resolve", report_id, text, account=report)
            done = await reports_sql.get_report(conn, report_id=report_id)
    assert done is not None  # noqa: S101 - locked above in this transaction
    return done


async def reopen(services: Services, staff: Staff, report_id: int, comment: str = "") -> Report:
    """Open a resolved report again (Conflict when it is open)."""
    roles.require(staff, roles.MODERATOR)
    text = _check_text("comment", comment, MAX_COMMENT)
    async with services.pool.acquire() as conn:
        async with conn.transaction():
            report = await _open_for_change(conn, report_id)
            if report.is_open:
                raise Conflict("the report is open")
            await reports_sql.reopen(conn, report_id=report_id)
            await _audit(conn, staff, "report.reopen", report_id, text, account=report)
            done = await reports_sql.get_report(conn, report_id=report_id)
    assert done is not None  # noqa: S101 - locked above in this transaction
    return done


async def _audit(
    conn: Conn,
    staff: Staff,
    action: str,
    report_id: int,
    comment: str,
    *,
    account: Report | None = None,
    **details: str,
) -> None:
    if account is not None:
        details = {**details, "account_id": str(account.target_id), "account": account.target_acct}
    await audit.record(conn, staff, action, "report", report_id, comment=comment, details=details)
