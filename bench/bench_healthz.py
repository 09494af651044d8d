"""`/healthz` under load against a bare Quart hello-world app, in the same run.

Requests/s and p50/p99 latency with 32 concurrent connections (by default) for stgy's
`/healthz` (one PostgreSQL and one Redis round trip each) and for the baseline, both
served by `stgy.serving.hypercorn_config` from the same config; the ratio is printed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402 - needs the repo root on sys.path
    STGY_SERVE,
    VAR_DIR,
    bench_config,
    free_port,
    hello_argv,
    prepare_database,
    report,
    say,
    start_server,
)
from bench.load import Load, run_load  # noqa: E402


def measure(
    argv: list[str], env: dict[str, str], url: str, log: Path, args: argparse.Namespace
) -> Load:
    with start_server(argv, env, url, log=log):
        say(f"load on {url}: {args.connections} connections, {args.duration:g} s")
        return run_load(url, args.connections, args.duration, args.threads)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=10, help="seconds of measured load")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    args = parser.parse_args(argv)

    bench = bench_config()
    say(f"preparing database {bench.config.database.url.rsplit('/', 1)[-1]}")
    prepare_database(bench.env)

    # Server logs (one line per request) go to files, not the terminal.
    stgy = measure(
        STGY_SERVE, bench.env, f"{bench.base_url}/healthz", VAR_DIR / "stgy-serve.log", args
    )
    bind = f"127.0.0.1:{free_port()}"
    hello = measure(hello_argv(bind), bench.env, f"http://{bind}/", VAR_DIR / "hello.log", args)

    report("healthz_rps", stgy.rps, "req/s", hello.rps)
    report("healthz_p50", stgy.p50_ms, "ms", hello.p50_ms)
    report("healthz_p99", stgy.p99_ms, "ms", hello.p99_ms)
    report("healthz_errors", stgy.errors, "responses", hello.errors)
    if stgy.errors or hello.errors:
        say(f"errors: stgy {stgy.errors} of {stgy.requests} requests")
        say(f"errors: baseline {hello.errors} of {hello.requests} requests")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
