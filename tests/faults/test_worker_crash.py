"""A worker killed with SIGKILL while it holds jobs, and Redis flushed: nothing is lost,
nothing doubled, and the instance catches up within seconds of the restart."""

from __future__ import annotations

from pathlib import Path

from storage import db
from tests.conftest import RUN_ID, create_migrated_database
from tests.faults.crash import CrashScenario
from tests.faults.servers import PrivateRedis

# The bound: every event applied within 30 s of the worker's restart. Recovery
# takes about the heartbeat's expiry (10 s) plus a look (2 s); the bound leaves room
# for a busy machine.
RECOVERY_BOUND_SECONDS = 30.0


async def test_killed_worker_and_flushed_redis_lose_nothing(tmp_path: Path) -> None:
    database_url = await create_migrated_database(f"stgy_test_{RUN_ID}_crash")
    try:
        with PrivateRedis() as redis:
            scenario = CrashScenario(database_url, redis.url, tmp_path, followers=150, posts=40)
            scenario.start()
            try:
                outcome = await scenario.run()
            finally:
                scenario.stop()
    finally:
        await db.drop_database(database_url)

    print(outcome)  # noqa: T201 - the figures, for whoever reads the test's output
    assert outcome.kills == 3
    # Each kill came while the worker held jobs (it was frozen first, then killed), and
    # the recovery loop put jobs of a dead worker back: the path under test ran.
    assert outcome.kills_holding_jobs == 3
    assert outcome.requeued_logged >= 1
    assert outcome.events_pending == 0
    assert (outcome.present, outcome.doubled) == (outcome.expected, 0)
    assert (outcome.mentions_present, outcome.mentions_doubled) == (outcome.mentions_expected, 0)
    assert outcome.seconds_to_complete < RECOVERY_BOUND_SECONDS
