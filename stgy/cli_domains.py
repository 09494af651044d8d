"""Admin commands of `stgy` for issue 17's instance policy: `domains` (list, block,
unblock, import, export), `rules` (list, add, edit, move, remove) and `settings` (show,
set, reset). They act as the CLI admin (stgy.domain.roles.CLI); each change leaves an
audit row."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from stgy.cli_base import AdminFailed, positive, with_services
from stgy.config import Config
from stgy.domain import domain_blocks, instance_settings, rules
from stgy.domain.domain_block_csv import export_blocks, import_blocks
from stgy.domain.domain_blocks import SEVERITIES, BlockSpec
from stgy.domain.roles import CLI

# Shorthands: a flag alone, on a block that limits no posts (severity noop).
_SHORTHANDS = ("reject_media", "reject_reports")


def cmd_domains_list(config: Config, args: argparse.Namespace) -> int:
    found = with_services(config, lambda s: domain_blocks.list_blocks(s, CLI))
    print(
        "domain\tseverity\treject_media\treject_reports\tobfuscate\tpublic_comment\tprivate_comment"
    )
    for b in found:
        print(
            f"{b.domain}\t{b.severity}\t{_yes(b.reject_media)}\t{_yes(b.reject_reports)}\t"
            f"{_yes(b.obfuscate)}\t{_one_line(b.public_comment)}\t{_one_line(b.private_comment)}"
        )
    if not found:
        print("no domain blocks", file=sys.stderr)
    return 0


def cmd_domains_block(config: Config, args: argparse.Namespace) -> int:
    severity = args.severity
    reject_media, reject_reports = args.reject_media, args.reject_reports
    if severity in _SHORTHANDS:
        reject_media = reject_media or severity == "reject_media"
        reject_reports = reject_reports or severity == "reject_reports"
        severity = "noop"
    spec = BlockSpec(
        args.domain,
        severity,
        reject_media,
        reject_reports,
        args.public_comment,
        args.private_comment,
        args.obfuscate,
    )
    block, outcome = with_services(config, lambda s: domain_blocks.block_domain(s, CLI, spec))
    flags = [
        n
        for n, on in (
            ("reject_media", block.reject_media),
            ("reject_reports", block.reject_reports),
        )
        if on
    ]
    print(f"{block.domain}: {block.severity}{''.join(' +' + f for f in flags)} ({outcome})")
    return 0


def cmd_domains_unblock(config: Config, args: argparse.Namespace) -> int:
    domain = with_services(config, lambda s: domain_blocks.unblock_domain(s, CLI, args.domain))
    print(f"{domain}: block lifted")
    return 0


def cmd_domains_import(config: Config, args: argparse.Namespace) -> int:
    try:
        text = Path(args.file).read_text(encoding="utf-8") if args.file != "-" else sys.stdin.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise AdminFailed(f"cannot read {args.file}: {exc}") from None
    done = with_services(config, lambda s: import_blocks(s, CLI, text))
    print(f"imported: {done.created} created, {done.updated} changed, {done.unchanged} unchanged")
    return 0


def cmd_domains_export(config: Config, args: argparse.Namespace) -> int:
    text = with_services(config, lambda s: export_blocks(s, CLI))
    if args.output and args.output != "-":
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def cmd_rules_list(config: Config, args: argparse.Namespace) -> int:
    found = with_services(config, rules.list_rules)
    for number, rule in enumerate(found, start=1):
        print(f"{number}. [{rule.id}] {_one_line(rule.text)}")
    if not found:
        print("no rules", file=sys.stderr)
    return 0


def cmd_rules_add(config: Config, args: argparse.Namespace) -> int:
    rule = with_services(config, lambda s: rules.add_rule(s, CLI, args.text))
    print(f"rule {rule.id} added at position {rule.position + 1}")
    return 0


def cmd_rules_edit(config: Config, args: argparse.Namespace) -> int:
    rule = with_services(config, lambda s: rules.change_rule(s, CLI, args.id, args.text))
    print(f"rule {rule.id} changed")
    return 0


def cmd_rules_move(config: Config, args: argparse.Namespace) -> int:
    if args.position < 1:
        raise AdminFailed("position: 1 or more")
    with_services(config, lambda s: rules.move_rule(s, CLI, args.id, args.position - 1))
    print(f"rule {args.id} moved")
    return 0


def cmd_rules_remove(config: Config, args: argparse.Namespace) -> int:
    with_services(config, lambda s: rules.remove_rule(s, CLI, args.id))
    print(f"rule {args.id} removed")
    return 0


def _print_settings(found: instance_settings.InstanceSettings) -> None:
    for name in instance_settings.FIELDS:
        origin = "set by an admin" if name in found.overridden else "instance.toml"
        print(f"{name}\t{_one_line(getattr(found, name))}\t({origin})")
    print(f"show_domain_blocks\t{_yes(found.show_domain_blocks)}")


def cmd_settings_show(config: Config, args: argparse.Namespace) -> int:
    _print_settings(with_services(config, instance_settings.current))
    return 0


def cmd_settings_set(config: Config, args: argparse.Namespace) -> int:
    changes: dict[str, Any] = {
        name: getattr(args, name)
        for name in instance_settings.FIELDS
        if getattr(args, name) is not None
    }
    if args.show_domain_blocks is not None:
        changes["show_domain_blocks"] = args.show_domain_blocks == "yes"
    for name in args.reset or []:
        changes[name] = None
    if not changes:
        raise AdminFailed("nothing to change: give --name, --description, ... or --reset")
    _print_settings(with_services(config, lambda s: instance_settings.update(s, CLI, changes)))
    return 0


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def add_domain_commands(sub: Any) -> None:
    dp = sub.add_parser(
        "domains",
        help="domain blocks: list, block, unblock, import, export",
        description="domain blocks (Mastodon's severities and CSV format)",
    )
    domains = dp.add_subparsers(dest="domains_command", metavar="command", required=True)
    p = domains.add_parser("list", help="every domain block")
    p.set_defaults(func=cmd_domains_list)
    p = domains.add_parser(
        "block",
        help="block a domain (and those below it), or change its block",
        description="block a domain (and those below it), or change its block",
    )
    p.add_argument("domain", help="host name, with :port when not the default")
    p.add_argument(
        "--severity",
        choices=[*SEVERITIES, *_SHORTHANDS],
        default="suspend",
        help="suspend (default), silence, noop; reject_media, reject_reports: noop + that flag",
    )
    p.add_argument("--reject-media", action="store_true", help="neither cache nor proxy its media")
    p.add_argument("--reject-reports", action="store_true", help="drop its reports (Flag)")
    p.add_argument("--public-comment", default="", help="the reason shown on /about")
    p.add_argument("--private-comment", default="", help="a note for admins")
    p.add_argument("--obfuscate", action="store_true", help="hide part of the name on /about")
    p.set_defaults(func=cmd_domains_block)
    p = domains.add_parser("unblock", help="lift a domain's block")
    p.add_argument("domain")
    p.set_defaults(func=cmd_domains_unblock)
    p = domains.add_parser(
        "import", help="blocks from Mastodon's CSV (or bare domains, one a line)"
    )
    p.add_argument("file", help="a CSV file, or - for standard input")
    p.set_defaults(func=cmd_domains_import)
    p = domains.add_parser("export", help="the blocks as Mastodon's CSV")
    p.add_argument("--output", "-o", help="a file (default: standard output)")
    p.set_defaults(func=cmd_domains_export)

    rp = sub.add_parser("rules", help="the instance's rules: list, add, edit, move, remove")
    rules_ = rp.add_subparsers(dest="rules_command", metavar="command", required=True)
    p = rules_.add_parser("list", help="the rules in order, with their ids")
    p.set_defaults(func=cmd_rules_list)
    p = rules_.add_parser("add", help="a rule after the last")
    p.add_argument("text")
    p.set_defaults(func=cmd_rules_add)
    p = rules_.add_parser("edit", help="change a rule's text")
    p.add_argument("id", type=positive)
    p.add_argument("text")
    p.set_defaults(func=cmd_rules_edit)
    p = rules_.add_parser("move", help="put a rule at a position (1 first)")
    p.add_argument("id", type=positive)
    p.add_argument("position", type=int)
    p.set_defaults(func=cmd_rules_move)
    p = rules_.add_parser("remove", help="remove a rule")
    p.add_argument("id", type=positive)
    p.set_defaults(func=cmd_rules_remove)

    sp = sub.add_parser(
        "settings", help="instance settings admins change live: show, set (over instance.toml)"
    )
    settings = sp.add_subparsers(dest="settings_command", metavar="command", required=True)
    p = settings.add_parser("show", help="the settings in force and where each comes from")
    p.set_defaults(func=cmd_settings_show)
    p = settings.add_parser("set", help="change settings (kept in the database)")
    p.add_argument("--name")
    p.add_argument("--description")
    p.add_argument("--contact-email", dest="contact_email")
    p.add_argument("--registrations", choices=list(instance_settings.REGISTRATIONS))
    p.add_argument("--show-domain-blocks", choices=["yes", "no"], help="list them on /about")
    p.add_argument(
        "--reset",
        action="append",
        choices=list(instance_settings.FIELDS),
        help="back to instance.toml's value (repeatable)",
    )
    p.set_defaults(func=cmd_settings_set)
