"""What reading the live instance settings costs a page (issue 17).

Every page reads the effective [instance] settings (stgy.domain.instance_settings,
kept per process for TTL_SECONDS). Printed: one cached read (µs), and the logged-out
home page (`GET /`) and `/about` in process, interleaved, with the settings read as
pages now read them and with instance.toml's section alone (what pages read before),
in requests/s. On the `stgy_bench` database (`stgy db migrate` first).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_config, prepare_database, report, say  # noqa: E402
from stgy.app import create_app  # noqa: E402
from stgy.config import InstanceConfig  # noqa: E402
from stgy.domain import instance_settings  # noqa: E402
from stgy.web import context  # noqa: E402


async def _rate(work: Callable[[], Awaitable[object]], seconds: float) -> float:
    done = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        await work()
        done += 1
    return done / elapsed


async def main(seconds: float, rounds: int) -> None:
    bench = bench_config()
    prepare_database(bench.env)
    app = create_app(bench.config)
    live = context.instance

    async def toml_only() -> InstanceConfig:
        return context.config().instance

    async with app.test_app():
        client = app.test_client()
        async with app.app_context():
            svc = context.services()
        await instance_settings.current(svc)
        reads = 200_000
        start = time.perf_counter()
        for _ in range(reads):
            await instance_settings.current(svc)
        per_read = (time.perf_counter() - start) / reads * 1e6
        report("cached settings read", per_read, "µs")
        for path in ("/", "/about"):
            results: dict[str, list[float]] = {"live": [], "toml": []}
            for _ in range(rounds):
                for name, reader in (("live", live), ("toml", toml_only)):
                    context.instance = reader  # type: ignore[assignment]

                    async def page(p: str = path) -> None:
                        answer = await client.get(p)
                        assert answer.status_code == 200  # noqa: S101 - a bench's check

                    results[name].append(await _rate(page, seconds))
            context.instance = live  # type: ignore[assignment]
            best_toml = max(results["toml"])
            report(f"GET {path}, instance.toml only", best_toml, "req/s")
            report(f"GET {path}, live settings", max(results["live"]), "req/s", best_toml)
    say("done")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="per round and variant")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.rounds))
