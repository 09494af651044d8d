"""`stgy agents`: create, list, pause, resume, delete, run-once (docs/agents.md)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stgy.cli_base import AdminFailed, with_services
from stgy.config import Config
from stgy.domain.agents import manage
from stgy.services import Services

if TYPE_CHECKING:
    from stgy.domain.agents.run import RunReport


def _persona(text: str) -> str:
    """A persona given as a file name (read) or as the text itself."""
    path = Path(text)
    if len(text) < 4096 and "\n" not in text and path.is_file():
        return path.read_text(encoding="utf-8")
    return text


def cmd_create(config: Config, args: argparse.Namespace) -> int:
    agent = with_services(
        config,
        lambda s: manage.create_agent(
            s, handle=args.handle, persona=_persona(args.persona), language=args.language
        ),
    )
    print(f"created agent {agent.handle} (id {agent.account_id}, language {agent.language})")
    return 0


def cmd_convert(config: Config, args: argparse.Namespace) -> int:
    async def work(s: Services) -> str:
        account = await manage.local_account(s, args.handle)
        if args.back:
            await manage.unmake_agent(s, account.id)
            return f"{account.handle}: an ordinary account again"
        await manage.make_agent(s, account.id, _persona(args.persona or ""), args.language)
        return f"{account.handle}: now an agent"

    print(with_services(config, work))
    return 0


def cmd_list(config: Config, args: argparse.Namespace) -> int:
    agents = with_services(config, manage.list_agents)
    print(
        f"{'handle':24} {'state':7} {'lang':4} {'calls':>7} {'prompt_tok':>10} "
        f"{'compl_tok':>10} {'actions':>7} {'fails':>5}  next run"
    )
    for a in agents:
        state = "paused" if a.paused else "active"
        when = a.next_run_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        print(
            f"{a.handle:24} {state:7} {a.language:4} {a.calls:>7} {a.prompt_tokens:>10} "
            f"{a.completion_tokens:>10} {a.actions:>7} {a.failures:>5}  {when}"
        )
        if a.last_error:
            print(f"    last error: {a.last_error}")
    if not agents:
        print("no agents")
    return 0


def cmd_pause(config: Config, args: argparse.Namespace) -> int:
    paused = args.agents_command == "pause"

    async def work(s: Services) -> None:
        account = await manage.local_account(s, args.handle)
        await manage.set_paused(s, account.id, paused=paused)

    with_services(config, work)
    print(f"{args.handle}: {'paused' if paused else 'running again'}")
    return 0


def cmd_delete(config: Config, args: argparse.Namespace) -> int:
    if not args.yes:
        raise AdminFailed(f"this deletes the agent {args.handle} and its posts; add --yes")
    with_services(config, lambda s: manage.delete_agent(s, args.handle))
    print(f"{args.handle}: deleted")
    return 0


def cmd_run_once(config: Config, args: argparse.Namespace) -> int:
    # Imported here: the run brings the domain, metrics and pydantic, which the other
    # commands (and `stgy serve`, whose metrics folder must be set before
    # prometheus_client is imported) do not need.
    from stgy.domain.agents.run import run_agent
    from stgy.domain.agents.runtime import AgentRuntime, StepFailed

    async def work(s: Services) -> RunReport:
        account = await manage.local_account(s, args.handle)
        runtime = AgentRuntime.make(s.config)
        try:
            return await run_agent(s, runtime, account.id, force=True)
        finally:
            await runtime.aclose()

    try:
        report = with_services(config, work)
    except StepFailed as exc:
        raise AdminFailed(
            f"{args.handle}: nothing done: step {exc.step} failed: {exc.error}"
        ) from None
    print(f"{report.handle}: read {report.read} posts")
    for line in report.did:
        print(f"  did: {line}")
    for line in report.skipped:
        print(f"  skipped: {line}")
    if not report.did:
        print("  did nothing")
    return 0


def add_agent_commands(sub: Any) -> None:
    ap = sub.add_parser(
        "agents",
        help="AI agents: create, list, pause, resume, delete, run-once",
        description="AI agents",
    )
    agents = ap.add_subparsers(dest="agents_command", metavar="command", required=True)
    p = agents.add_parser("create", help="create an agent account")
    p.add_argument("handle")
    p.add_argument("--persona", required=True, help="a file, or the persona's text")
    p.add_argument("--language", default="en", help="en or ja (prompts and posts)")
    p.set_defaults(func=cmd_create)
    p = agents.add_parser("convert", help="make an existing local account an agent (--back: undo)")
    p.add_argument("handle")
    p.add_argument("--persona", help="a file, or the persona's text (not with --back)")
    p.add_argument("--language", default="en")
    p.add_argument("--back", action="store_true", help="make the agent an ordinary account")
    p.set_defaults(func=cmd_convert)
    p = agents.add_parser("list", help="agents with their counters (calls, tokens, actions)")
    p.set_defaults(func=cmd_list)
    for name, help_ in (("pause", "stop an agent's runs"), ("resume", "run it again")):
        p = agents.add_parser(name, help=help_)
        p.add_argument("handle")
        p.set_defaults(func=cmd_pause)
    p = agents.add_parser("delete", help="delete an agent and its posts (needs --yes)")
    p.add_argument("handle")
    p.add_argument("--yes", action="store_true")
    p.set_defaults(func=cmd_delete)
    p = agents.add_parser("run-once", help="drive one agent now and print what it did")
    p.add_argument("handle")
    p.set_defaults(func=cmd_run_once)
