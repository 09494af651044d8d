"""The `stgy` command: run, serve, worker, check, db, services, version."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stgy import __version__
from stgy.cli_base import CommandFailed
from stgy.config import Config, ConfigError, load_config
from stgy.logs import configure_logging

if TYPE_CHECKING:
    from storage import migrations as migrations_sql

EX_CONFIG = 78  # sysexits.h: configuration error
EX_UNAVAILABLE = 69  # sysexits.h: a service the command needs is unavailable
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


# The command groups of other modules: (module, its function adding them, their names and
# help). A group's module, and the domain it brings, is imported only when one of its
# names is on the command line; `stgy --help` lists them from here (a unit test checks
# that these help texts are the modules' own).
GROUPS: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    (
        "stgy.cli_admin",
        "add_admin_commands",
        (
            ("users", "manage local users"),
            ("reset-data", "empty the instance (needs --yes)"),
            ("reset-data-test", "empty the instance and fill it with bulk test data (--yes)"),
            ("reset-cache", "drop cached renderings and rate counters"),
            ("media", "media: purge-remote"),
            ("instances", "other instances: list, block, unblock"),
        ),
    ),
    (
        "stgy.cli_reports",
        "add_report_commands",
        (("reports", "reports: list, show, note, resolve, reopen, create"),),
    ),
    (
        "stgy.cli_accounts",
        "add_account_commands",
        (("accounts", "moderate accounts, local (handle) and remote (handle@domain)"),),
    ),
    (
        "stgy.cli_agents",
        "add_agent_commands",
        (("agents", "AI agents: create, list, pause, resume, delete, run-once"),),
    ),
    (
        "stgy.cli_jobs",
        "add_jobs_commands",
        (("jobs", "failed jobs (dead letters): failed, retry, discard"),),
    ),
    (
        "stgy.cli_domains",
        "add_domain_commands",
        (
            ("domains", "domain blocks: list, block, unblock, import, export"),
            ("rules", "the instance's rules: list, add, edit, move, remove"),
            ("settings", "instance settings admins change live: show, set (over instance.toml)"),
        ),
    ),
)


def _fail_unreachable(what: str, url: str, exc: BaseException) -> CommandFailed:
    from stgy.devservices import redact

    return CommandFailed(
        f"cannot reach {what} at {redact(url)}: {type(exc).__name__}: {exc}", EX_UNAVAILABLE
    )


def _share_metrics(config: Config, *, fresh: bool) -> None:
    """Point prometheus_client at a folder shared by our processes (read at its import)."""
    if os.environ.get(MULTIPROC_ENV):
        return
    folder = config.metrics_path
    if fresh and folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    os.environ[MULTIPROC_ENV] = str(folder)


def _note_legacy_media(config: Config) -> None:
    """Media once lived in `.var/media` by default; say where it goes now, once it matters."""
    legacy = config.root / ".var" / "media"
    if config.storage.backend != "local" or config.storage.path or not legacy.is_dir():
        return
    if not config.media_path.exists():
        print(
            f"stgy: note: media is now kept in {config.media_path}; if {legacy} holds this "
            f"instance's media, move it there (mv {legacy} {config.media_path})",
            file=sys.stderr,
        )


def _claim_namespace(config: Config) -> None:
    """Refuse to start (a config error) when another instance holds our Redis namespace."""
    from stgy.namespace_claim import claim_at_start

    asyncio.run(claim_at_start(config))


# --- commands ---------------------------------------------------------------


def cmd_version(config_path: str | None, args: argparse.Namespace) -> int:
    print(f"stgy {__version__}")
    return 0


def cmd_serve(config: Config, args: argparse.Namespace) -> int:
    from hypercorn.run import run

    from stgy.serving import hypercorn_config

    _claim_namespace(config)
    _note_legacy_media(config)
    _share_metrics(config, fresh=True)
    return int(run(hypercorn_config(config, "stgy.app:create_app()", args.bind)))


def _queues(text: str) -> tuple[str, ...]:
    from stgy.jobs import QUEUES

    chosen = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [q for q in chosen if q not in QUEUES]
    if not chosen or unknown:
        raise argparse.ArgumentTypeError(f"a comma-separated list of {', '.join(QUEUES)}")
    return chosen


def cmd_worker(config: Config, args: argparse.Namespace) -> int:
    # httpcore imports h2 whenever it is installed (hypercorn needs it to serve HTTP/2),
    # but the worker's clients speak HTTP/1.1 only (federation.ssrf's transports are
    # made with http2=False): 1.3 MB the worker never uses. None makes the import fail,
    # which httpcore expects (it would say so only if HTTP/2 were asked for).
    if "httpcore" not in sys.modules:
        sys.modules.setdefault("h2", None)  # type: ignore[arg-type]
    from tasks.worker import run_worker

    if config.server.worker_class == "uvloop":
        # The same event loop as the server's: cheaper sockets for delivery.
        import uvloop

        uvloop.run(run_worker(config, args.queues))
    else:
        asyncio.run(run_worker(config, args.queues))
    return 0


def cmd_run(config: Config, args: argparse.Namespace) -> int:
    from stgy.supervisor import supervise

    _claim_namespace(config)
    if not args.no_migrate:
        _migrate(config)
    _share_metrics(config, fresh=True)
    return supervise(config, dict(os.environ))


def cmd_check(config: Config, args: argparse.Namespace) -> int:
    from stgy.devservices import postgres_answers, redact, redis_answers

    print(f"config: ok ({config.source}; domain {config.instance.domain})")
    print(f"namespace: {config.namespace} (Redis keys; {config.var_dir} for paths left empty)")
    ok = True
    for label, url, answers in (
        ("postgresql", config.database.url, postgres_answers),
        ("redis", config.redis.url, redis_answers),
    ):
        reached = asyncio.run(answers(url))
        ok = ok and reached
        print(f"{label}: {'ok' if reached else 'UNREACHABLE'} ({redact(url)})")
    if ok:
        pending = [s for s in asyncio.run(_status(config)) if s.applied_at is None]
        print(f"migrations: {len(pending)} pending" if pending else "migrations: up to date")
    return 0 if ok else EX_UNAVAILABLE


async def _status(config: Config) -> list[migrations_sql.MigrationState]:
    import asyncpg

    from storage import migrations as migrations_sql

    try:
        conn = await asyncpg.connect(config.database.url, timeout=10)
    except asyncpg.InvalidCatalogNameError:
        return [migrations_sql.MigrationState(m, None) for m in migrations_sql.discover()]
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        raise _fail_unreachable("PostgreSQL", config.database.url, exc) from None
    try:
        return await migrations_sql.status(conn)
    finally:
        await conn.close()


async def _migrate_async(config: Config) -> list[str]:
    import asyncpg

    from storage import db
    from storage import migrations as migrations_sql

    url = config.database.url
    try:
        if await db.create_database_if_missing(url):
            print(f"database {db.database_name(url)}: created", file=sys.stderr)
        conn = await asyncpg.connect(url, timeout=10)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        raise _fail_unreachable("PostgreSQL", url, exc) from None
    try:
        return await migrations_sql.migrate(conn)
    except migrations_sql.MigrationError as exc:
        raise CommandFailed(f"migrations: {exc}") from None
    finally:
        await conn.close()


def _migrate(config: Config) -> None:
    applied = asyncio.run(_migrate_async(config))
    for name in applied:
        print(f"applied {name}", file=sys.stderr)
    print(
        f"migrations: {len(applied)} applied, database up to date"
        if applied
        else "migrations: database up to date",
        file=sys.stderr,
    )


def cmd_db_migrate(config: Config, args: argparse.Namespace) -> int:
    _migrate(config)
    return 0


def cmd_db_status(config: Config, args: argparse.Namespace) -> int:
    for state in asyncio.run(_status(config)):
        when = state.applied_at.isoformat() if state.applied_at else "pending"
        print(f"{state.migration.name:40} {when}")
    return 0


def cmd_db_reset(config: Config, args: argparse.Namespace) -> int:
    import asyncpg

    from storage import db

    if not args.yes:
        raise CommandFailed(
            f"this drops database {db.database_name(config.database.url)} with all its data; "
            "run again with --yes to do it",
            2,
        )
    try:
        asyncio.run(db.drop_database(config.database.url))
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        raise _fail_unreachable("PostgreSQL", config.database.url, exc) from None
    print(f"database {db.database_name(config.database.url)}: dropped", file=sys.stderr)
    _migrate(config)
    return 0


def cmd_services_up(config_path: str | None, args: argparse.Namespace) -> int:
    from stgy.devservices import (
        DEFAULT_DATABASE_URL,
        DEFAULT_REDIS_URL,
        ServicesUnavailable,
        find_services,
    )

    try:
        found = find_services(
            Path(args.var_dir),
            os.environ,
            args.default_database_url or DEFAULT_DATABASE_URL,
            args.default_redis_url or DEFAULT_REDIS_URL,
        )
    except ServicesUnavailable as exc:
        raise CommandFailed(str(exc), EX_UNAVAILABLE) from None
    print(f"DATABASE_URL={found.database_url}")
    print(f"REDIS_URL={found.redis_url}")
    return 0


def cmd_services_down(config_path: str | None, args: argparse.Namespace) -> int:
    from stgy.devservices import ServicesUnavailable, stop_private

    try:
        stop_private(Path(args.var_dir))
    except ServicesUnavailable as exc:
        raise CommandFailed(str(exc)) from None
    return 0


# --- parsing ----------------------------------------------------------------


def _named_groups(argv: Sequence[str]) -> set[str]:
    """The group modules one of whose command names is a word of `argv` (a subcommand is
    only ever chosen by its exact name, so none that is chosen is missed)."""
    words = set(argv)
    return {module for module, _, names in GROUPS if any(name in words for name, _ in names)}


def build_parser(load: set[str] | None = None) -> argparse.ArgumentParser:
    """The parser; of the GROUPS, those in `load` (every one when None) have their whole
    command tree, the others a name and help only."""
    parser = argparse.ArgumentParser(
        prog="stgy", description="stgy: a federated social network server."
    )
    parser.add_argument("--config", help="config file (default: $STGY_CONFIG or instance.toml)")
    sub = parser.add_subparsers(dest="command", metavar="command", required=True)

    def add(name: str, func: Callable[..., int], help_: str, **kw: bool) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(func=func, **kw)
        return p

    p = add("run", cmd_run, "migrate, then run the server and one worker together")
    p.add_argument("--no-migrate", action="store_true", help="do not apply pending migrations")
    p = add("serve", cmd_serve, "run the HTTP server (Hypercorn)")
    p.add_argument("--bind", help="host:port (default: server.bind)")
    p = add("worker", cmd_worker, "run one job worker (SAQ)")
    p.add_argument(
        "--queues",
        type=_queues,
        default=("default", "agents"),
        help="which queues to work: default, agents (AI agents), or both (the default)",
    )
    add("check", cmd_check, "validate the config and reach PostgreSQL and Redis")
    add("version", cmd_version, "print the version", raw_config=True)

    dbp = sub.add_parser("db", help="database: migrate, status, reset", description="database")
    dbsub = dbp.add_subparsers(dest="db_command", metavar="command", required=True)
    for name, func, help_ in (
        ("migrate", cmd_db_migrate, "create the database if missing and apply pending migrations"),
        ("status", cmd_db_status, "list migrations, applied and pending"),
        ("reset", cmd_db_reset, "drop the database and re-create it (needs --yes)"),
    ):
        p = dbsub.add_parser(name, help=help_, description=help_)
        p.set_defaults(func=func)
        if name == "reset":
            p.add_argument("--yes", action="store_true", help="really drop all data")

    for module, adder, names in GROUPS:
        if load is None or module in load:
            add_group: Callable[[Any], None] = getattr(importlib.import_module(module), adder)
            add_group(sub)
        else:
            for name, help_ in names:
                sub.add_parser(name, help=help_, description=help_)

    sp = sub.add_parser(
        "services",
        help="development: find or start PostgreSQL and Redis",
        description="development: find or start PostgreSQL and Redis for make run/test",
    )
    ssub = sp.add_subparsers(dest="services_command", metavar="command", required=True)
    up = ssub.add_parser("up", help="find or start them; print DATABASE_URL and REDIS_URL")
    up.set_defaults(func=cmd_services_up, raw_config=True)
    # Their defaults are stgy.devservices' (applied by the command: that module brings the
    # database and Redis clients, which parsing does not need).
    up.add_argument("--default-database-url")
    up.add_argument("--default-redis-url")
    down = ssub.add_parser("down", help="stop private servers started under the var dir")
    down.set_defaults(func=cmd_services_down, raw_config=True)
    for p in (up, down):
        p.add_argument("--var-dir", default=".var", help="where private servers live")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(_named_groups(words)).parse_args(words)
    configure_logging()
    try:
        if getattr(args, "raw_config", False):
            return int(args.func(args.config, args))
        config = load_config(args.config)
        return int(args.func(config, args))
    except ConfigError as exc:
        print(f"stgy: config error: {exc}", file=sys.stderr)
        return EX_CONFIG
    except CommandFailed as exc:
        print(f"stgy: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
