"""Moderation commands of `stgy` (docs/moderation.md): `stgy accounts` (list, show and the
account actions, on local `handle` and remote `handle@domain` accounts) and `stgy users`
role, approve, reject and the suspension commands. The CLI acts as an admin (roles.CLI);
every action leaves its audit row."""

from __future__ import annotations

import argparse
from typing import Any

from stgy.cli_base import AdminFailed, positive, when, with_services
from stgy.config import Config
from stgy.domain import account_actions, applicants, roles
from stgy.domain.account_actions import ModeratedAccount
from stgy.services import Services

_DONE = {
    "warn": "warned",
    "sensitive": "marked sensitive",
    "unsensitive": "no longer marked sensitive",
    "limit": "limited",
    "unlimit": "no longer limited",
    "suspend": "suspended",
    "unsuspend": "no longer suspended",
    "delete": "deleted",
}


def _row(account: ModeratedAccount) -> str:
    flags = ",".join(
        name
        for name, on in (
            ("sensitive", account.sensitized_at is not None),
            ("limited", account.limited_at is not None and account.state != "limited"),
        )
        if on
    )
    return (
        f"{account.id:>20}  {account.acct:40} {account.state:9} {account.role or '-':9}"
        f" {flags or '-'}"
    )


def cmd_accounts_list(config: Config, args: argparse.Namespace) -> int:
    found = with_services(
        config,
        lambda s: account_actions.search(
            s,
            roles.CLI,
            query=args.query or "",
            origin=args.origin,
            state=args.state,
            limit=args.limit,
            offset=args.offset,
        ),
    )
    print(f"{'id':>20}  {'account':40} {'state':9} {'role':9} flags")
    for account in found:
        print(_row(account))
    return 0


def cmd_accounts_show(config: Config, args: argparse.Namespace) -> int:
    async def work(services: Services) -> account_actions.AccountPage:
        account_id = await account_actions.resolve(services, args.account)
        return await account_actions.get(services, roles.CLI, account_id)

    page = with_services(config, work)
    a = page.account
    print(f"account:    {a.acct} (id {a.id}, {'local' if a.is_local else 'remote'})")
    print(f"state:      {a.state}")
    if a.is_local:
        print(f"role:       {a.role}")
        print(f"email:      {a.email}")
        if a.registration_reason:
            print(f"reason:     {a.registration_reason}")
    print(f"created:    {when(a.created_at)}")
    for label, value in (
        ("suspended", a.suspended_at),
        ("limited", a.limited_at),
        ("sensitive", a.sensitized_at),
        ("deleted", a.deleted_at),
    ):
        if value is not None:
            print(f"{label + ':':11} {when(value)}")
    print(
        f"posts:      {a.posts_count}  followers {a.followers_count}  following {a.following_count}"
    )
    print(f"actions:    {', '.join(page.actions) or '-'}")
    print("history:")
    for entry in page.history:
        comment = f": {entry.comment}" if entry.comment else ""
        print(f"  {when(entry.created_at)}  {entry.action} by {entry.actor}{comment}")
    if not page.history:
        print("  (none)")
    return 0


def cmd_accounts_act(config: Config, args: argparse.Namespace) -> int:
    action = args.accounts_command
    if action == "delete" and not args.yes:
        raise AdminFailed(f"this deletes {args.account} and their posts; add --yes to do it")

    async def work(services: Services) -> ModeratedAccount:
        account_id = await account_actions.resolve(services, args.account)
        return await account_actions.act(
            services, roles.CLI, account_id, action, comment=args.comment or ""
        )

    account = with_services(config, work)
    print(f"{account.acct}: {_DONE[action]} (now {account.state})")
    if action == "suspend" and account.is_local:
        grace = config.moderation.suspension_grace_seconds
        print(
            f"its Delete goes out in {grace:g} s unless lifted; its data is kept"
            f" {config.moderation.suspension_days:g} days"
        )
    return 0


def cmd_users_suspend(config: Config, args: argparse.Namespace) -> int:
    """`stgy users suspend|unsuspend HANDLE`: the account actions, for local users."""
    action = args.users_command

    async def work(services: Services) -> ModeratedAccount:
        account_id = await applicants.applicant_id(services, args.handle)
        page = await account_actions.get(services, roles.CLI, account_id)
        if action == "unsuspend" and page.account.state == "pending":
            raise AdminFailed(
                f"{args.handle} is waiting for approval, not suspended:"
                f" stgy users approve {args.handle}"
            )
        return await account_actions.act(
            services, roles.CLI, account_id, action, comment=args.comment or ""
        )

    account = with_services(config, work)
    if account.state == "pending":
        print(
            f"{args.handle}: no longer suspended; still waiting for approval"
            f" (stgy users approve {args.handle})"
        )
    elif action == "suspend":
        print(f"{args.handle}: suspended")
    else:
        print(f"{args.handle}: active again")
    return 0


def cmd_users_role(config: Config, args: argparse.Namespace) -> int:
    async def work(services: Services) -> ModeratedAccount:
        account_id = await applicants.applicant_id(services, args.handle)
        return await applicants.set_role(
            services, roles.CLI, account_id, args.role, comment=args.comment or ""
        )

    account = with_services(config, work)
    print(f"{account.handle}: role {account.role}")
    return 0


def cmd_users_applicants(config: Config, args: argparse.Namespace) -> int:
    found = with_services(
        config, lambda s: applicants.applicants(s, roles.CLI, limit=args.limit, offset=args.offset)
    )
    for a in found:
        print(f"{a.id:>20}  {a.handle:30} {a.email or '-':30} {when(a.created_at)}")
        print(f"    {a.registration_reason or '(no reason given)'}")
    if not found:
        print("no applicants")
    return 0


def cmd_users_approve(config: Config, args: argparse.Namespace) -> int:
    async def work(services: Services) -> str:
        account_id = await applicants.applicant_id(services, args.handle)
        if args.users_command == "approve":
            await applicants.approve(services, roles.CLI, account_id, comment=args.comment or "")
            return "approved (mailed; they can log in now)"
        await applicants.reject(services, roles.CLI, account_id, comment=args.comment or "")
        return "rejected (mailed; the account is removed)"

    print(f"{args.handle}: {with_services(config, work)}")
    return 0


def add_user_moderation_commands(users: Any) -> None:
    """`stgy users` suspend, unsuspend, role, applicants, approve, reject."""
    for name, help_ in (
        ("suspend", "suspend (log out, refuse logins, actor 410, Delete after the grace period)"),
        ("unsuspend", "lift a suspension"),
    ):
        p = users.add_parser(name, help=help_, description=help_)
        p.add_argument("handle")
        p.add_argument("--comment", help="why (kept in the audit log)")
        p.set_defaults(func=cmd_users_suspend)
    p = users.add_parser("role", help="give a role: user, moderator or admin")
    p.add_argument("handle")
    p.add_argument("role", choices=roles.ROLES)
    p.add_argument("--comment", help="why (kept in the audit log)")
    p.set_defaults(func=cmd_users_role)
    p = users.add_parser("applicants", help="accounts waiting for approval, with their reason")
    p.add_argument("--limit", type=positive, default=50)
    p.add_argument("--offset", type=positive, default=0)
    p.set_defaults(func=cmd_users_applicants)
    for name, help_ in (
        ("approve", "approve an applicant (mailed; they can log in)"),
        ("reject", "reject an applicant (mailed; the account is removed)"),
    ):
        p = users.add_parser(name, help=help_, description=help_)
        p.add_argument("handle")
        p.add_argument("--comment", help="added to the mail, kept in the audit log")
        p.set_defaults(func=cmd_users_approve)


def add_account_commands(sub: Any) -> None:
    ap = sub.add_parser(
        "accounts",
        help="moderate accounts, local (handle) and remote (handle@domain)",
        description="moderate accounts, local (handle) and remote (handle@domain)",
    )
    accounts = ap.add_subparsers(dest="accounts_command", metavar="command", required=True)
    p = accounts.add_parser("list", help="find accounts (newest first)")
    p.add_argument("query", nargs="?", help="part of handle@domain")
    p.add_argument("--origin", choices=account_actions.ORIGINS)
    p.add_argument("--state", choices=account_actions.STATES)
    p.add_argument("--limit", type=positive, default=50)
    p.add_argument("--offset", type=positive, default=0)
    p.set_defaults(func=cmd_accounts_list)
    p = accounts.add_parser("show", help="an account, its state and its history")
    p.add_argument("account", help="handle or handle@domain")
    p.set_defaults(func=cmd_accounts_show)
    for name, help_ in (
        ("warn", "mail the person a warning (--comment is its text)"),
        ("sensitive", "mark sensitive: their media are hidden by default"),
        ("unsensitive", "undo sensitive"),
        ("limit", "their posts leave public timelines; only followers see them"),
        ("unlimit", "lift a limit"),
        ("suspend", "suspend (remote: refuse their activities, unfollow both ways)"),
        ("unsuspend", "lift a suspension"),
        ("delete", "delete a local account and its posts (needs --yes)"),
    ):
        p = accounts.add_parser(name, help=help_, description=help_)
        p.add_argument("account", help="handle or handle@domain")
        p.add_argument("--comment", required=name == "warn", help="why (kept in the audit log)")
        if name == "delete":
            p.add_argument("--yes", action="store_true")
        p.set_defaults(func=cmd_accounts_act)
