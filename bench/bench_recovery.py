"""Crash recovery: a worker killed with SIGKILL while it holds jobs, Redis flushed once.

The scenario of tests/faults/test_worker_crash.py at a larger size: a live instance
(`stgy serve` + `stgy worker`) on a database and a Redis server of the bench's own;
one author with `--followers` local followers writes `--posts` posts through the API,
0.15 s apart, each mentioning a follower; the worker is killed `--kills` times at
moments it runs jobs (the last right after the last post) and restarted, and Redis is
flushed after the second kill. Prints the home-timeline entries expected, missing and
doubled, the mention notifications likewise, and the seconds from the last restart
until everything is applied; the baseline is the same run with no fault, timed from
its last post.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import report, say  # noqa: E402 - needs the repo root on sys.path
from storage import db  # noqa: E402
from tests.conftest import create_migrated_database  # noqa: E402
from tests.faults.crash import CrashScenario, Outcome  # noqa: E402
from tests.faults.servers import PrivateRedis  # noqa: E402


async def one_run(name: str, tmp: Path, followers: int, posts: int, kills: int) -> Outcome:
    database_url = await create_migrated_database(f"stgy_bench_recovery_{name}")
    try:
        with PrivateRedis() as redis:
            scenario = CrashScenario(
                database_url, redis.url, tmp / name, followers=followers, posts=posts, kills=kills
            )
            scenario.start()
            try:
                started = time.monotonic()
                outcome = await scenario.run()
                say(f"{name}: {time.monotonic() - started:.1f} s in all; {outcome}")
            finally:
                scenario.stop()
    finally:
        await db.drop_database(database_url)
    return outcome


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--followers", type=int, default=1000)
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--kills", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stgy-bench-recovery-") as tmp:
        say(f"baseline: {args.followers} followers, {args.posts} posts, no fault")
        calm = await one_run("calm", Path(tmp), args.followers, args.posts, 0)
        say(f"faults: the same with {args.kills} kills and one Redis flush")
        hit = await one_run("faults", Path(tmp), args.followers, args.posts, args.kills)
    report("recovery_entries_expected", hit.expected, "entries")
    report("recovery_entries_missing", hit.missing, "entries", calm.missing)
    report("recovery_entries_doubled", hit.doubled, "entries", calm.doubled)
    report("recovery_mentions_missing", hit.mentions_expected - hit.mentions_present, "notes")
    report("recovery_mentions_doubled", hit.mentions_doubled, "notes")
    report("recovery_events_pending", hit.events_pending, "events")
    report("recovery_kills_while_running_jobs", hit.kills_running_jobs, f"of {hit.kills}")
    report("recovery_jobs_put_back", hit.requeued_logged, "jobs")
    report(
        "recovery_seconds_last_restart_to_complete",
        hit.seconds_to_complete,
        "s",
        calm.seconds_to_complete,
    )


if __name__ == "__main__":
    asyncio.run(main())
