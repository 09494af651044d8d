"""Load for the benchmarks: wrk (or an asyncio generator), rounds taken in turn, py-spy.

`run_load` measures one load; `interleaved` takes several in turn and gives medians;
`profiled` samples a server with py-spy while a load runs.
"""

from __future__ import annotations

import asyncio
import math
import re
import shutil
import statistics
import subprocess  # noqa: S404 - the benchmarks run wrk and py-spy
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bench.common import say

WARMUP_SECONDS = 2.0


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
