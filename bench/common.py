"""Shared benchmark helpers: a bench instance config, servers as subprocesses, load, report.

The figures go to stdout, one line each (see `report`); everything else goes to stderr.
"""

from __future__ import annotations

import asyncio
import http.client
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess  # noqa: S404 - the benchmarks run our own servers and wrk
import sys
import time
from collections.abc import Callable, Iterator
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
WARMUP_SECONDS = 2.0
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0

# `python -m stgy serve`: the server under test.
STGY_SERVE = [sys.executable, "-m", "stgy", "serve"]


def hello_argv(bind: str) -> list[str]:
    """The baseline: the bare Quart app of bench/hello_app.py, under stgy's Hypercorn settings."""
    return [sys.executable, str(REPO_ROOT / "bench" / "hello_app.py"), "--bind", bind]


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
        "STGY_REDIS_QUEUE_PREFIX": QUEUE_PREFIX,
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


# --- load -------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # non-2xx responses (wrk: non-2xx/3xx) and socket errors


@contextmanager
def profiled(pid: int, seconds: float, path: Path | None) -> Iterator[None]:
    """With a path, sample process `pid` with py-spy (pip install py-spy) for `seconds`
    while the block runs: folded stacks to a `.txt` path, else a flame graph (SVG).
    py-spy pauses the process for each sample (full stacks, at some cost to that run)."""
    if path is None:
        yield
        return
    spy = subprocess.Popen(  # noqa: S603
        ["py-spy", "record", "-p", str(pid), "-d", str(round(seconds)), "-r", "250",
         "-f", "raw" if path.suffix == ".txt" else "flamegraph", "-o", str(path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield
    finally:
        spy.wait(30)
        say(f"profile of process {pid} written to {path}")


def run_load(
    url: str,
    connections: int = 32,
    duration: float = 10,
    threads: int = 2,
    warmup: float = WARMUP_SECONDS,
    headers: dict[str, str] | None = None,
    script: Path | None = None,
    prepared: list[bytes] | None = None,
) -> Load:
    """GET `url` over `connections` keep-alive connections for `duration` seconds.

    A `warmup` of load comes first and is not measured. Uses wrk when it is on PATH,
    else a small asyncio load generator (one process; `threads` is then ignored).
    Requests other than a GET: wrk runs the Lua `script`; the asyncio generator sends
    the raw HTTP/1.1 requests of `prepared` in turn (one of the two must be given, or both).
    """
    wrk = shutil.which("wrk")
    headers = headers or {}
    if wrk is not None and (script is not None or prepared is None):
        if warmup > 0:
            _wrk(wrk, url, connections, warmup, threads, headers, script)
        return _wrk(wrk, url, connections, duration, threads, headers, script)
    if script is not None and prepared is None:
        raise RuntimeError("this load needs wrk (apt install wrk)")
    if warmup > 0:
        _python_load(url, connections, warmup, headers, prepared)
    return _python_load(url, connections, duration, headers, prepared)


def interleaved(loads: dict[str, Callable[[], Load]], rounds: int) -> dict[str, Load]:
    """Run each load in turn, `rounds` times over, and take the median of each figure
    per load (errors and requests summed). The machine's speed drifts over a minute
    (other tenants, turbo), so a baseline measured once, before or after, drifts with
    it; taken in turn, the ratio of the medians holds still."""
    runs: dict[str, list[Load]] = {name: [] for name in loads}
    for n in range(rounds):
        for name, load in loads.items():
            say(f"round {n + 1}/{rounds}: {name}")
            runs[name].append(load())
    return {
        name: Load(
            rps=statistics.median(r.rps for r in got),
            p50_ms=statistics.median(r.p50_ms for r in got),
            p99_ms=statistics.median(r.p99_ms for r in got),
            requests=sum(r.requests for r in got),
            errors=sum(r.errors for r in got),
        )
        for name, got in runs.items()
    }


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _wrk(
    wrk: str,
    url: str,
    connections: int,
    duration: float,
    threads: int,
    headers: dict[str, str],
    script: Path | None = None,
) -> Load:
    seconds = max(1, round(duration))
    header_args = [arg for name, value in headers.items() for arg in ("-H", f"{name}: {value}")]
    if script is not None:
        header_args += ["-s", str(script)]
    done = subprocess.run(
        [
            wrk,
            f"-t{min(threads, connections)}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "--latency",
            *header_args,
            url,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()}")
    return parse_wrk(done.stdout)


def parse_wrk(output: str) -> Load:
    """The figures of `wrk --latency` output."""

    def number(pattern: str) -> str:
        found = re.search(pattern, output, re.MULTILINE)
        if found is None:
            raise ValueError(f"wrk output has no match for {pattern!r}:\n{output}")
        return found.group(1)

    def percentile(p: int) -> float:
        found = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.MULTILINE)
        if found is None:
            raise ValueError(f"wrk output has no {p}% latency line:\n{output}")
        return float(found.group(1)) * _UNIT_MS[found.group(2)]

    errors = 0
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if non_2xx is not None:
        errors += int(non_2xx.group(1))
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if sockets is not None:
        errors += sum(int(n) for n in sockets.groups())
    return Load(
        rps=float(number(r"^Requests/sec:\s+([\d.]+)")),
        p50_ms=percentile(50),
        p99_ms=percentile(99),
        requests=int(number(r"^\s+(\d+) requests in ")),
        errors=errors,
    )


def _percentile(ordered: list[float], p: float) -> float:
    """Nearest-rank percentile of sorted values (0.0 when there are none)."""
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one HTTP/1.1 response; its status and whether the connection stays open."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *lines = head[:-4].split(b"\r\n")
    status = int(status_line.split(b" ", 2)[1])
    headers: dict[bytes, bytes] = {}
    for line in lines:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip().lower()
    keep_alive = headers.get(b"connection") != b"close"
    if b"content-length" in headers:
        await reader.readexactly(int(headers[b"content-length"]))
    elif headers.get(b"transfer-encoding") == b"chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":
                    pass  # trailers
                break
            await reader.readexactly(size + 2)
    elif status >= 200 and status not in (204, 304):
        await reader.read()  # body until the server closes
        keep_alive = False
    return status, keep_alive


async def _load(
    url: str,
    connections: int,
    duration: float,
    headers: dict[str, str],
    prepared: list[bytes] | None = None,
) -> Load:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    target = parts.path or "/"
    if parts.query:
        target += f"?{parts.query}"
    extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    request = (
        f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nAccept: */*\r\n{extra}\r\n"
    ).encode()
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + duration
    turn = 0

    def next_request() -> bytes:
        nonlocal turn
        if not prepared:
            return request
        turn += 1
        return prepared[(turn - 1) % len(prepared)]

    async def connection() -> None:
        nonlocal errors
        writer: asyncio.StreamWriter | None = None
        reader: asyncio.StreamReader | None = None
        while time.perf_counter() < deadline:
            try:
                if writer is None or reader is None:
                    reader, writer = await asyncio.open_connection(host, port)
                started = time.perf_counter()
                writer.write(next_request())
                status, keep_alive = await asyncio.wait_for(_read_response(reader), 10.0)
                latencies.append(time.perf_counter() - started)
                if not 200 <= status < 300:
                    errors += 1
            except (
                OSError,
                TimeoutError,
                asyncio.IncompleteReadError,
                asyncio.LimitOverrunError,
                ValueError,
                IndexError,
            ):
                errors += 1
                keep_alive = False
            if not keep_alive and writer is not None:
                writer.close()
                writer = reader = None
        if writer is not None:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return Load(
        rps=len(latencies) / elapsed if elapsed > 0 else 0.0,
        p50_ms=_percentile(ordered, 50) * 1000,
        p99_ms=_percentile(ordered, 99) * 1000,
        requests=len(latencies),
        errors=errors,
    )


def _python_load(
    url: str,
    connections: int,
    duration: float,
    headers: dict[str, str],
    prepared: list[bytes] | None = None,
) -> Load:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(_load(url, connections, duration, headers, prepared))
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(_load(url, connections, duration, headers, prepared))


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
