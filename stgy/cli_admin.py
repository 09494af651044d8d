"""Admin commands of `stgy`: users, reset-data, reset-data-test, reset-cache, media,
instances. (`stgy reports`: stgy/cli_reports.py.)"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from stgy.cli_base import AdminFailed, days, positive, when, with_services
from stgy.config import Config
from stgy.domain import admin, domain_blocks, moderation, roles
from stgy.domain.accounts import random_password
from stgy.domain.media import media_cleanup


def _progress(stage: str, done: int, total: int) -> None:
    width = 30
    filled = width * done // max(1, total)
    end = "\n" if done >= total else ""
    bar = "#" * filled + "." * (width - filled)
    print(f"\r{stage:10} [{bar}] {done}/{total}", end=end, file=sys.stderr, flush=True)


def cmd_users_create(config: Config, args: argparse.Namespace) -> int:
    password = args.password or random_password(handle=args.handle, email=args.email)
    if args.admin:
        args.role = "admin"
    account_id = with_services(
        config,
        lambda s: admin.create_user(
            s, handle=args.handle, email=args.email, password=password, role=args.role
        ),
    )
    print(f"created {args.handle} (id {account_id}, role {args.role})")
    if not args.password:
        print(f"password: {password}")
    return 0


def cmd_users_list(config: Config, args: argparse.Namespace) -> int:
    rows = with_services(
        config, lambda s: admin.list_users(s, limit=args.limit, offset=args.offset)
    )
    print(f"{'id':>20}  {'handle':30} {'role':9} {'state':10} email")
    for row in rows:
        state = (
            "deleted"
            if row.deleted_at
            else "suspended"
            if row.suspended_at
            else "active"
            if row.approved
            else "pending"
        )
        print(f"{row.account_id:>20}  {row.handle:30} {row.role:9} {state:10} {row.email}")
    return 0


def cmd_users_delete(config: Config, args: argparse.Namespace) -> int:
    if not args.yes:
        raise AdminFailed(f"this deletes {args.handle} and their posts; add --yes to do it")
    with_services(config, lambda s: admin.delete_user(s, args.handle, comment=args.comment or ""))
    print(f"{args.handle}: deleted")
    return 0


def cmd_users_reset_password(config: Config, args: argparse.Namespace) -> int:
    password = args.password or random_password(handle=args.handle)
    with_services(config, lambda s: admin.reset_password(s, args.handle, password))
    print(f"{args.handle}: password changed; every session logged out")
    if not args.password:
        print(f"password: {password}")
    return 0


def cmd_reset_data(config: Config, args: argparse.Namespace) -> int:
    if not args.yes:
        raise AdminFailed("this deletes every account, post and relation; add --yes to do it")
    with_services(config, admin.reset_data)
    print("instance emptied (schema and secrets kept)")
    return 0


def cmd_reset_data_test(config: Config, args: argparse.Namespace) -> int:
    if not args.yes:
        raise AdminFailed("this empties the instance first; add --yes to do it")
    report = with_services(
        config,
        lambda s: admin.reset_test_data(
            s,
            users=args.users,
            posts_per_user=args.posts_per_user,
            follows_per_user=args.follows_per_user,
            progress=_progress,
        ),
    )
    print(
        f"test data: {report.users} users (password 'test-password'), {report.posts} posts,"
        f" {report.follows} follows, {report.timeline_entries} timeline entries"
        f" in {report.seconds:.1f} s"
    )
    return 0


def cmd_reset_cache(config: Config, args: argparse.Namespace) -> int:
    dropped = with_services(config, admin.reset_cache)
    print(f"cache: {dropped} keys dropped")
    return 0


def cmd_media_purge_remote(config: Config, args: argparse.Namespace) -> int:
    purged = with_services(
        config, lambda s: media_cleanup.purge_remote(s, older_than_days=args.older_than)
    )
    print(f"remote media: {purged} cached files purged (cached over {args.older_than:g} days ago)")
    return 0


def cmd_instances_list(config: Config, args: argparse.Namespace) -> int:
    found = with_services(
        config,
        lambda s: moderation.instances(
            s, only_blocked=args.blocked, only_unavailable=args.unavailable, limit=args.limit
        ),
    )
    print("domain\tblocked\tfailures\tunavailable_since\tlast_success_at\tscheme\taccounts")
    for i in found:
        print(
            f"{i.domain}\t{'yes' if i.blocked else 'no'}\t{i.failures}\t"
            f"{when(i.unavailable_since)}\t{when(i.last_success_at)}\t"
            f"{i.signature_scheme or '-'}\t{i.accounts}"
        )
    return 0


def cmd_instances_block(config: Config, args: argparse.Namespace) -> int:
    """A domain block of severity `suspend` (see `stgy domains`)."""
    if args.instances_command == "block":
        block = with_services(
            config, lambda s: domain_blocks.suspend_domain(s, roles.CLI, args.domain)
        )
        print(f"blocked {block.domain} (and the domains below it)")
        return 0
    domain = with_services(
        config,
        lambda s: domain_blocks.unblock_domain(s, roles.CLI, args.domain, missing_ok=True),
    )
    print(f"unblocked {domain} (and the domains below it)")
    return 0


def add_admin_commands(sub: Any) -> None:
    up = sub.add_parser("users", help="manage local users", description="manage local users")
    users = up.add_subparsers(dest="users_command", metavar="command", required=True)
    p = users.add_parser("create", help="create an approved user")
    p.add_argument("handle")
    p.add_argument("--email", required=True)
    p.add_argument("--password", help="default: a random one, printed once")
    p.add_argument("--role", choices=["user", "moderator", "admin"], default="user")
    p.add_argument("--admin", action="store_true", help="the same as --role admin")
    p.set_defaults(func=cmd_users_create)
    p = users.add_parser("list", help="list users")
    p.add_argument("--limit", type=positive, default=100)
    p.add_argument("--offset", type=positive, default=0)
    p.set_defaults(func=cmd_users_list)
    from stgy.cli_accounts import add_user_moderation_commands

    add_user_moderation_commands(users)
    p = users.add_parser("delete", help="delete a user and their posts")
    p.add_argument("handle")
    p.add_argument("--comment", help="why (kept in the audit log)")
    p.add_argument("--yes", action="store_true")
    p.set_defaults(func=cmd_users_delete)
    p = users.add_parser("reset-password", help="set a new password, log out everywhere")
    p.add_argument("handle")
    p.add_argument("--password", help="default: a random one, printed once")
    p.set_defaults(func=cmd_users_reset_password)

    p = sub.add_parser("reset-data", help="empty the instance (needs --yes)")
    p.add_argument("--yes", action="store_true")
    p.set_defaults(func=cmd_reset_data)
    p = sub.add_parser(
        "reset-data-test", help="empty the instance and fill it with bulk test data (--yes)"
    )
    p.add_argument("--users", type=positive, default=1000)
    p.add_argument("--posts-per-user", type=positive, default=20)
    p.add_argument("--follows-per-user", type=positive, default=50)
    p.add_argument("--yes", action="store_true")
    p.set_defaults(func=cmd_reset_data_test)
    p = sub.add_parser("reset-cache", help="drop cached renderings and rate counters")
    p.set_defaults(func=cmd_reset_cache)

    mp = sub.add_parser("media", help="media: purge-remote", description="media")
    media = mp.add_subparsers(dest="media_command", metavar="command", required=True)
    p = media.add_parser(
        "purge-remote",
        help="remove cached copies of remote media (they are hot-linked again)",
        description="remove cached copies of remote media (they are hot-linked again)",
    )
    p.add_argument(
        "--older-than", type=days, required=True, metavar="DAYS", help="cached before this"
    )
    p.set_defaults(func=cmd_media_purge_remote)
    _add_moderation_commands(sub)


def _add_moderation_commands(sub: Any) -> None:
    ip = sub.add_parser("instances", help="other instances: list, block, unblock")
    instances = ip.add_subparsers(dest="instances_command", metavar="command", required=True)
    p = instances.add_parser("list", help="instances we know, with delivery health")
    p.add_argument("--blocked", action="store_true", help="only blocked ones")
    p.add_argument("--unavailable", action="store_true", help="only ones skipped as unavailable")
    p.add_argument("--limit", type=positive, default=200)
    p.set_defaults(func=cmd_instances_list)
    for name, help_ in (
        ("block", "refuse its activities (403) and deliver nothing to it, subdomains too"),
        ("unblock", "lift a block"),
    ):
        p = instances.add_parser(name, help=help_, description=help_)
        p.add_argument("domain", help="host name, with :port when not the default")
        p.set_defaults(func=cmd_instances_block)
