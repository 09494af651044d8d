"""`stgy reports`: list, show, note, resolve, reopen, create (docs/moderation.md). The CLI
acts as an admin (stgy.domain.roles.CLI); its actions are logged as the actor 'cli'."""

from __future__ import annotations

import argparse
from typing import Any

from stgy.cli_base import with_services
from stgy.config import Config
from stgy.domain import accounts, reports, roles
from stgy.domain.reports import NewReport, Report, ReportDetail
from stgy.services import Services


def _when(report_time: Any) -> str:
    return report_time.strftime("%Y-%m-%dT%H:%M:%SZ") if report_time else "-"


def _positive_id(text: str) -> int:
    if not text.isascii() or not text.isdigit() or not 0 < int(text) < 2**63:
        raise argparse.ArgumentTypeError("must be an id (a positive number)")
    return int(text)


async def _account_id(services: Services, ref: str) -> int:
    """An account named by its id, `@handle` or `@user@host` (one we know)."""
    if ref.isascii() and ref.isdigit():
        return int(ref)
    return (await accounts.find_account(services, ref.removeprefix("@"))).id


def _state(report: Report) -> str:
    if report.resolved_at is None:
        return "open"
    return f"resolved {_when(report.resolved_at)} by {report.resolved_by or 'cli'}"


def _from(report: Report) -> str:
    if report.remote:
        return f"{report.reporter_acct or '(unknown)'} (another instance)"
    return report.reporter_acct or "cli"


def _print_report(report: Report) -> None:
    posts = ",".join(str(p) for p in report.post_ids) or "-"
    print(
        f"#{report.id}  {_when(report.created_at)}  {_state(report)}  about {report.target_acct}"
        f"  {report.category}  posts {posts}"
    )
    print(f"    from {_from(report)}: {report.comment or '(no comment)'}")


def cmd_list(config: Config, args: argparse.Namespace) -> int:
    state = "all" if args.all else "resolved" if args.resolved else "open"

    async def work(s: Services) -> list[Report]:
        account_id = await _account_id(s, args.account) if args.account else None
        return await reports.list_reports(
            s, roles.CLI, state=state, limit=args.limit, account_id=account_id
        )

    found = with_services(config, work)
    for report in found:
        _print_report(report)
    if not found:
        print("no reports" if state == "all" else f"no {state} reports")
    return 0


def cmd_show(config: Config, args: argparse.Namespace) -> int:
    detail: ReportDetail = with_services(
        config, lambda s: reports.get_report(s, roles.CLI, args.id)
    )
    report = detail.report
    _print_report(report)
    if report.forwarded_at:
        print(f"forwarded to the account's instance {_when(report.forwarded_at)}")
    if report.resolution:
        print(f"resolution: {report.resolution}")
    for rule in detail.rules:
        print(f"rule {rule.id}: {rule.text}")
    for post in detail.posts:
        since = " (deleted since)" if post.deleted_since else ""
        since = since or (" (edited since)" if post.edited_since else "")
        print(f"post {post.post_id} {_when(post.posted_at)}{since}: {post.source or post.html}")
        for media in post.media:
            print(f"    media {media.get('url')} {media.get('description') or ''}".rstrip())
    for note in detail.notes:
        print(f"note by {note.author} {_when(note.created_at)}: {note.body}")
    for entry in detail.log:
        print(f"log {_when(entry.created_at)} {entry.actor} {entry.action} {entry.comment}")
    for other in detail.other_reports:
        print(f"other report #{other.id} {_when(other.created_at)} {_state(other)}")
    for entry in detail.account_actions:
        print(f"account action {_when(entry.created_at)} {entry.actor} {entry.action}")
    return 0


def cmd_note(config: Config, args: argparse.Namespace) -> int:
    note = with_services(config, lambda s: reports.add_note(s, roles.CLI, args.id, args.text))
    print(f"report #{args.id}: note {note.id} added")
    return 0


def cmd_resolve(config: Config, args: argparse.Namespace) -> int:
    with_services(config, lambda s: reports.resolve(s, roles.CLI, args.id, args.comment))
    print(f"report #{args.id} resolved")
    return 0


def cmd_reopen(config: Config, args: argparse.Namespace) -> int:
    with_services(config, lambda s: reports.reopen(s, roles.CLI, args.id, args.comment))
    print(f"report #{args.id} open again")
    return 0


def cmd_create(config: Config, args: argparse.Namespace) -> int:
    async def work(s: Services) -> Report:
        new = NewReport(
            account_id=await _account_id(s, args.account),
            post_ids=tuple(args.post),
            category=args.category,
            rule_ids=tuple(args.rule),
            comment=args.comment,
            forward=args.forward,
        )
        return await reports.create_report(s, None, new)

    made = with_services(config, work)
    forwarded = " and forwarded to the account's instance" if made.forwarded_at else ""
    print(f"report #{made.id} created{forwarded}")
    return 0


def add_report_commands(sub: Any) -> None:
    rp = sub.add_parser(
        "reports",
        help="reports: list, show, note, resolve, reopen, create",
        description="reports about accounts, made here or sent by other instances (Flag)",
    )
    commands = rp.add_subparsers(dest="reports_command", metavar="command", required=True)
    p = commands.add_parser("list", help="open reports, newest first")
    p.add_argument("--all", action="store_true", help="resolved ones too")
    p.add_argument("--resolved", action="store_true", help="only resolved ones")
    p.add_argument("--account", help="only about this account: id, @handle or @user@host")
    p.add_argument("--limit", type=_positive_id, default=50)
    p.set_defaults(func=cmd_list)
    p = commands.add_parser(
        "show", help="a report: its posts as reported, notes, the account's history"
    )
    p.add_argument("id", type=_positive_id)
    p.set_defaults(func=cmd_show)
    p = commands.add_parser("note", help="add a note for the other moderators")
    p.add_argument("id", type=_positive_id)
    p.add_argument("text")
    p.set_defaults(func=cmd_note)
    for name, help_, func in (
        ("resolve", "mark a report resolved", cmd_resolve),
        ("reopen", "open a resolved report again", cmd_reopen),
    ):
        p = commands.add_parser(name, help=help_, description=help_)
        p.add_argument("id", type=_positive_id)
        p.add_argument("--comment", default="", help="why (kept with the report and in the log)")
        p.set_defaults(func=func)
    p = commands.add_parser(
        "create",
        help="report an account (for scripts; the reporter is 'cli')",
        description="report an account and some of its posts; prints the report's id",
    )
    p.add_argument("account", help="id, @handle or @user@host (one this instance knows)")
    p.add_argument("--post", type=_positive_id, action="append", default=[], help="a post id")
    p.add_argument("--category", choices=reports.CATEGORIES, default="other")
    p.add_argument("--rule", type=_positive_id, action="append", default=[], help="a rule id")
    p.add_argument("--comment", default="")
    p.add_argument(
        "--forward",
        action="store_true",
        help="send it to the account's instance too (a Flag from this instance)",
    )
    p.set_defaults(func=cmd_create)
