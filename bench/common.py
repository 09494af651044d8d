"""Shared benchmark helpers: a bench instance config, servers as subprocesses, report.

Load generation (wrk or asyncio) and its figures are in bench/load.py.

The figures go to stdout, one line each (see `report`); everything else goes to stderr.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess  # noqa: S404 - the benchmarks run our own servers and wrk
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from stgy.config import Config, load_config  # noqa: E402 - needs the repo root on sys.path

VAR_DIR = REPO_ROOT / ".var" / "bench"
BENCH_DATABASE = "stgy_bench"
QUEUE_PREFIX = "stgy-bench"
DEFAULT_DATABASE_URL = "postgresql://127.0.0.1:5432/stgy"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0

# `python -m stgy serve`: the server under test.
STGY_SERVE = [sys.executable, "-m", "stgy", "serve"]


def hello_argv(bind: str, *, tuned_gc: bool = False) -> list[str]:
    """The baseline: the bare Quart app of bench/hello_app.py, under stgy's Hypercorn
    settings; `tuned_gc`: with stgy's garbage-collector thresholds too."""
    argv = [sys.executable, str(REPO_ROOT / "bench" / "hello_app.py"), "--bind", bind]
    return argv + ["--tuned-gc"] if tuned_gc else argv


def say(message: str) -> None:
    """Progress for the person watching; stdout is kept for the figures."""
    print(f"bench: {message}", file=sys.stderr, flush=True)


# --- configuration ----------------------------------------------------------


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class BenchConfig:
    """The config of the instance under test and the environment its processes run with."""

    config: Config
    env: dict[str, str]  # the whole environment for subprocesses (os.environ + `overrides`)
    overrides: dict[str, str]  # only the variables the benchmark set

    @property
    def base_url(self) -> str:
        return f"http://{self.config.server.bind}"


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _env_value(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def bench_config(
    database: str = BENCH_DATABASE, **overrides: str | int | float | bool
) -> BenchConfig:
    """A config on the dedicated database `stgy_bench`, its own queue prefix and a free port.

    Keyword overrides name config keys as `section_key` (`server_workers=2` sets
    STGY_SERVER_WORKERS); they win over the benchmark's own settings.
    """
    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    values: dict[str, str] = {
        "DATABASE_URL": _with_database(database_url, database),
        "REDIS_URL": redis_url,
        # One per database: an instance refuses a namespace another database holds.
        "STGY_REDIS_QUEUE_PREFIX": f"{QUEUE_PREFIX}-{database}",
        "STGY_SERVER_BIND": f"127.0.0.1:{free_port()}",
        # Absolute, and apart from the dev instance's: `stgy serve` empties this folder.
        "STGY_SERVER_METRICS_DIR": str(VAR_DIR / "metrics"),
        "STGY_STORAGE_PATH": str(VAR_DIR / "media"),
        "STGY_MAIL_SPOOL_PATH": str(VAR_DIR / "mail"),
    }
    values.update({f"STGY_{key.upper()}": _env_value(v) for key, v in overrides.items()})
    env = dict(os.environ)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # else `stgy serve` would share a parent's folder
    env.update(values)
    pythonpath = env.get("PYTHONPATH")
    env["PYTHONPATH"] = f"{REPO_ROOT}{os.pathsep}{pythonpath}" if pythonpath else str(REPO_ROOT)
    return BenchConfig(config=load_config(environ=env), env=env, overrides=values)


def prepare_database(env: dict[str, str]) -> None:
    """`stgy db migrate` with the bench environment: creates `stgy_bench` if missing."""
    done = subprocess.run(
        [sys.executable, "-m", "stgy", "db", "migrate"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"stgy db migrate failed ({done.returncode}): {done.stderr.strip()}")


# --- servers ----------------------------------------------------------------


def _answers_200(url: str) -> bool:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=2)
    try:
        conn.request("GET", parts.path or "/")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def _tail(path: Path | None, lines: int = 20) -> str:
    if path is None or not path.exists():
        return ""
    text = path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    return "\n".join(text)


@contextmanager
def start_server(
    argv: list[str],
    env: dict[str, str],
    url: str,
    log: Path | None = None,
    timeout: float = READY_TIMEOUT,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `argv` until the block ends; wait first until `url` answers 200.

    With `log`, the process's stdout and stderr go to that file rather than the terminal.
    On leaving: SIGTERM, then SIGKILL after STOP_TIMEOUT seconds.
    """
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
    out = log.open("wb") if log is not None else None
    proc = subprocess.Popen(
        argv, env=env, cwd=REPO_ROOT, stdout=out, stderr=out, start_new_session=True
    )
    try:
        deadline = time.monotonic() + timeout
        while not _answers_200(url):
            if proc.poll() is not None:
                raise RuntimeError(
                    f"{' '.join(argv)} exited with code {proc.returncode} before {url} "
                    f"answered\n{_tail(log)}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer 200 within {timeout:.0f} s\n{_tail(log)}")
            time.sleep(0.1)
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if out is not None:
            out.close()


# --- output -----------------------------------------------------------------


def _number(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:.1f}"


def report(name: str, value: float, unit: str, baseline: float | None = None) -> None:
    """One line on stdout: `name  value  unit  (baseline b, ratio value/b)`."""
    line = f"{name}  {_number(value)}  {unit}"
    if baseline is not None:
        ratio = f"{value / baseline:.2f}" if baseline else "n/a"
        line += f"  (baseline {_number(baseline)}, ratio {ratio})"
    print(line, flush=True)
