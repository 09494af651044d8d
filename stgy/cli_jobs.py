"""`stgy jobs`: dead letters, listed, retried, discarded (docs/operations.md)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from stgy.cli_base import with_services
from stgy.config import Config
from stgy.domain import dead_letters
from stgy.domain.roles import CLI


def _first_line(error: str) -> str:
    return error.splitlines()[0] if error else ""


def cmd_failed(config: Config, args: argparse.Namespace) -> int:
    letters = with_services(config, lambda s: dead_letters.list_failed(s, CLI, limit=args.limit))
    if not letters:
        print("no failed jobs")
        return 0
    print(f"{'id':>20}  {'kind':18} {'attempts':>8}  {'failed_at':20}  error")
    for letter in letters:
        when = letter.failed_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        error = _first_line(letter.error)
        if not args.full and len(error) > 100:
            error = error[:99] + "…"
        print(f"{letter.id:>20}  {letter.kind:18} {letter.attempts:>8}  {when:20}  {error}")
        if args.full:
            print(f"    payload: {json.dumps(letter.payload, sort_keys=True)}")
            for line in letter.error.splitlines()[1:]:
                print(f"    {line}")
    return 0


def cmd_retry(config: Config, args: argparse.Namespace) -> int:
    letter = with_services(config, lambda s: dead_letters.retry(s, CLI, args.id))
    print(f"{letter.id}: {letter.kind} enqueued again (it gets all its attempts anew)")
    return 0


def cmd_discard(config: Config, args: argparse.Namespace) -> int:
    letter = with_services(config, lambda s: dead_letters.discard(s, CLI, args.id))
    print(f"{letter.id}: {letter.kind} discarded (never applied)")
    return 0


def add_jobs_commands(sub: Any) -> None:
    jp = sub.add_parser(
        "jobs",
        help="failed jobs (dead letters): failed, retry, discard",
        description="jobs that failed every attempt (dead letters)",
    )
    jobs = jp.add_subparsers(dest="jobs_command", metavar="command", required=True)
    p = jobs.add_parser("failed", help="list dead letters: id, kind, attempts, failed_at, error")
    p.add_argument("--limit", type=int, default=100, help="at most this many (newest first)")
    p.add_argument("--full", action="store_true", help="with each one's payload and traceback")
    p.set_defaults(func=cmd_failed)
    p = jobs.add_parser("retry", help="enqueue a dead letter again, with all its attempts")
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_retry)
    p = jobs.add_parser("discard", help="give up on a dead letter (marked done, never applied)")
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_discard)
