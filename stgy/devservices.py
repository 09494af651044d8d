"""Finding PostgreSQL and Redis for `make run` / `make test`, or starting private ones.

Order: DATABASE_URL / REDIS_URL when they answer; else the local defaults when
they answer; else private servers under `.var/` from the binaries on PATH (or
/usr/lib/postgresql/*/bin), which `stgy services down` stops.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import socket
import subprocess  # noqa: S404 - starting the database servers is this module's job
import sys
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import redis
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from storage.db import with_database

DEFAULT_DATABASE_URL = "postgresql://127.0.0.1:5432/stgy"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


class ServicesUnavailable(Exception):
    """Neither a running server nor binaries to start one: the message says what to install."""


@dataclass(frozen=True)
class Found:
    database_url: str
    redis_url: str


def say(message: str) -> None:
    print(f"stgy: {message}", file=sys.stderr, flush=True)


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(":" + parts.password + "@", ":***@")
    return url


async def postgres_answers(url: str, timeout: float = 3.0) -> bool:
    try:
        conn = await asyncpg.connect(with_database(url, "postgres"), timeout=timeout)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return False
    await conn.close()
    return True


async def redis_answers(url: str, timeout: float = 3.0) -> bool:
    client = aioredis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        return bool(await client.ping())  # type: ignore[misc]
    except (RedisError, OSError, TimeoutError):
        return False
    finally:
        await client.aclose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    return str(candidates[-1]) if candidates else None


def _as_service_user() -> tuple[list[str], int | None, int | None]:
    """PostgreSQL refuses to run as root: run it as `postgres` (or `nobody`) then."""
    if os.geteuid() != 0:
        return [], None, None
    user = next((name for name in ("postgres", "nobody") if _user_exists(name)), None)
    if user is None:
        raise ServicesUnavailable("running as root, and no 'postgres' user to run PostgreSQL as")
    entry = pwd.getpwnam(user)
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin", "/usr/bin"])
    runuser = shutil.which("runuser", path=search)
    if runuser:
        return [runuser, "-u", user, "--"], entry.pw_uid, entry.pw_gid
    setpriv = shutil.which("setpriv", path=search)
    if setpriv:
        ids = [f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--clear-groups"]
        return [setpriv, *ids], entry.pw_uid, entry.pw_gid
    raise ServicesUnavailable(
        "running as root, PostgreSQL must run as another user, and neither runuser nor "
        "setpriv is installed (Debian/Ubuntu: apt install util-linux)"
    )


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _run(cmd: list[str], log: Path | None = None) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        hint = f" (log: {log})" if log else ""
        raise ServicesUnavailable(f"{Path(cmd[0]).name} failed{hint}: " + " / ".join(detail))


def postgres_binaries() -> tuple[str, str]:
    """initdb and pg_ctl, or ServicesUnavailable saying what to install."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        raise ServicesUnavailable(
            "no PostgreSQL found: set DATABASE_URL, run one on 127.0.0.1:5432, or install "
            "PostgreSQL server binaries (Debian/Ubuntu: apt install postgresql; macOS: brew "
            "install postgresql) so a private one can be started under .var/"
        )
    return initdb, pg_ctl


def init_postgres_cluster(home: Path) -> Path:
    """A trust-auth cluster in `home/data` (made once), owned by whoever runs PostgreSQL."""
    initdb, _ = postgres_binaries()
    prefix, uid, gid = _as_service_user()
    data = home / "data"
    home.mkdir(parents=True, exist_ok=True)
    if uid is not None and gid is not None:
        # The service user must be able to reach the folder it writes in.
        for folder in [home, *home.parents]:
            mode = folder.stat().st_mode
            if folder != home and not mode & 0o001:
                folder.chmod(mode | 0o001)
        os.chown(home, uid, gid)
    if not (data / "PG_VERSION").exists():
        say(f"PostgreSQL: creating a private cluster in {data}")
        _run(
            [
                *prefix,
                initdb,
                "-D",
                str(data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-instructions",
                "--no-sync",  # a development cluster, run with fsync=off too
            ]
        )
    return data


def start_postgres(home: Path, port: int) -> str:
    """Start the cluster of `home` (see init_postgres_cluster) on 127.0.0.1:`port`, its
    socket in `home`, its log in `home/postgres.log`; waits until it takes connections."""
    _, pg_ctl = postgres_binaries()
    prefix, _, _ = _as_service_user()
    log = home / "postgres.log"
    opts = f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c fsync=off"
    _run(
        [*prefix, pg_ctl, "-D", str(home / "data"), "-l", str(log), "-o", opts]
        + ["-w", "-t", "60", "start"],
        log,
    )
    return f"postgresql://postgres@127.0.0.1:{port}"


def stop_postgres(home: Path, mode: str = "fast") -> None:
    """Stop the cluster of `home` if it runs: `fast` ends sessions, `immediate` aborts."""
    pg_ctl = _pg_bin("pg_ctl")
    if pg_ctl and (home / "data" / "postmaster.pid").exists():
        prefix, _, _ = _as_service_user()
        _run([*prefix, pg_ctl, "-D", str(home / "data"), "-m", mode, "-w", "stop"])


def start_private_postgres(var_dir: Path) -> str:
    postgres_binaries()
    home = (var_dir / "postgres").resolve()
    port_file = home / "port"
    if port_file.exists():
        port = int(port_file.read_text().strip())
        url = f"postgresql://postgres@127.0.0.1:{port}/stgy"
        if asyncio.run(postgres_answers(url)):
            say(f"PostgreSQL: private server already running on port {port} ({home})")
            return url
    else:
        port = free_port()
    data = init_postgres_cluster(home)
    port = port if _port_free(port) else free_port()
    start_postgres(home, port)
    port_file.write_text(f"{port}\n")
    say(f"PostgreSQL: started a private server on 127.0.0.1:{port} ({data})")
    return f"postgresql://postgres@127.0.0.1:{port}/stgy"


def redis_binary() -> str:
    """redis-server, or ServicesUnavailable saying what to install."""
    binary = shutil.which("redis-server")
    if not binary:
        raise ServicesUnavailable(
            "no Redis found: set REDIS_URL, run one on 127.0.0.1:6379, or install redis-server "
            "(Debian/Ubuntu: apt install redis-server; macOS: brew install redis) so a "
            "private one can be started under .var/"
        )
    return binary


def redis_command(home: Path, port: int) -> list[str]:
    """redis-server on 127.0.0.1:`port` keeping nothing on disk, its files in `home`."""
    return [
        redis_binary(),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(home),
        "--logfile",
        str(home / "redis.log"),
    ]


def wait_for_redis(url: str, timeout: float = 10.0) -> None:
    """Until Redis at `url` answers PING (blocking, so callable inside an event loop too)."""
    deadline = time.monotonic() + timeout
    while True:
        client = redis.Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=1.0)
        try:
            if client.ping():
                return
        except (RedisError, OSError):
            pass
        finally:
            client.close()
        if time.monotonic() > deadline:
            raise ServicesUnavailable(f"redis-server did not answer at {url}")
        time.sleep(0.05)


def start_private_redis(var_dir: Path) -> str:
    redis_binary()
    home = (var_dir / "redis").resolve()
    home.mkdir(parents=True, exist_ok=True)
    port_file = home / "port"
    if port_file.exists():
        port = int(port_file.read_text().strip())
        url = f"redis://127.0.0.1:{port}/0"
        if asyncio.run(redis_answers(url)):
            say(f"Redis: private server already running on port {port} ({home})")
            return url
    port = free_port()
    daemon = ["--daemonize", "yes", "--pidfile", str(home / "redis.pid")]
    _run([*redis_command(home, port), *daemon], home / "redis.log")
    url = f"redis://127.0.0.1:{port}/0"
    wait_for_redis(url)
    port_file.write_text(f"{port}\n")
    say(f"Redis: started a private server on 127.0.0.1:{port} ({home})")
    return url


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def find_services(
    var_dir: Path,
    environ: Mapping[str, str],
    default_database_url: str = DEFAULT_DATABASE_URL,
    default_redis_url: str = DEFAULT_REDIS_URL,
) -> Found:
    database_url = _find(
        "PostgreSQL",
        "DATABASE_URL",
        environ,
        default_database_url,
        postgres_answers,
        lambda: start_private_postgres(var_dir),
    )
    redis_url = _find(
        "Redis",
        "REDIS_URL",
        environ,
        default_redis_url,
        redis_answers,
        lambda: start_private_redis(var_dir),
    )
    return Found(database_url, redis_url)


def _find(
    label: str,
    env_name: str,
    environ: Mapping[str, str],
    default: str,
    answers: Callable[[str], Coroutine[Any, Any, bool]],
    start: Callable[[], str],
) -> str:
    given = environ.get(env_name)
    if given:
        if asyncio.run(answers(given)):
            say(f"{label}: using {env_name}={redact(given)}")
            return given
        say(f"{label}: {env_name}={redact(given)} does not answer; looking further")
    if asyncio.run(answers(default)):
        say(f"{label}: using the local default {redact(default)}")
        return default
    say(f"{label}: nothing answers at {redact(default)}; starting a private server")
    return start()


def stop_private(var_dir: Path) -> None:
    home = (var_dir / "postgres").resolve()
    if (home / "data" / "postmaster.pid").exists() and _pg_bin("pg_ctl"):
        stop_postgres(home)
        say("PostgreSQL: private server stopped")
    pidfile = (var_dir / "redis" / "redis.pid").resolve()
    if pidfile.exists():
        try:
            os.kill(int(pidfile.read_text().strip()), 15)
            say("Redis: private server stopped")
        except (ProcessLookupError, ValueError):
            pass
        pidfile.unlink(missing_ok=True)
