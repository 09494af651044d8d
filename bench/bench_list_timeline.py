"""List timeline pages against home pages: milliseconds a page statement takes in PostgreSQL.

On a copy of the 100k-post bench database (`stgy_bench100k`, seeded by
bench_home_timeline.py; the copy, `stgy_bench100k_lists`, is made once from it as a
template and kept), user42 follows 400 more accounts and gets lists of 10, 100 and
500 members, filled as adding accounts fills them (40 posts backfilled). Printed: the
median execution time (of `--runs` EXPLAIN ANALYZE) of a page of 40 of the home
timeline (with and without an exclusive list, and as it was before exclusive lists
were checked), of each list from its stored entries, and of each list computed
wholly from its members' posts (what a page below a list's floor costs).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg  # noqa: E402

from bench.common import bench_config, prepare_database, report, say  # noqa: E402
from storage import follows as follows_sql  # noqa: E402
from storage import list_timelines as list_timelines_sql  # noqa: E402
from storage import lists as lists_sql  # noqa: E402
from storage import timelines as timelines_sql  # noqa: E402

SOURCE = "stgy_bench100k"
COPY = "stgy_bench100k_lists"
SIZES = (10, 100, 500)
PAGE = 40
NO_LIMIT = 9223372036854775807


async def ensure_copy(server_url: str) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", COPY):
            return
        say(f"copying {SOURCE} to {COPY}")
        await conn.execute(f'CREATE DATABASE "{COPY}" TEMPLATE "{SOURCE}"')
    finally:
        await conn.close()


async def seed(conn: asyncpg.Connection) -> tuple[int, int, dict[int, int]]:
    """user42, its session, and its lists by size (made once, kept)."""
    owner: int = await conn.fetchval("SELECT id FROM accounts WHERE handle = 'user42'")
    session: int = await conn.fetchval(
        "SELECT id FROM sessions WHERE account_id = $1 ORDER BY id DESC LIMIT 1", owner
    )
    found = {row.title: row.id for row in await lists_sql.owned_lists(conn, owner_id=owner)}
    if len(found) < len(SIZES):
        say("seeding lists")
        others = await conn.fetch(
            "SELECT id FROM accounts WHERE id <> $1 ORDER BY id LIMIT 500", owner
        )
        for row in others:
            await follows_sql.insert_follow(
                conn, follower_id=owner, followee_id=row["id"], state="accepted"
            )
        followed = [row["id"] for row in others]
        for size in SIZES:
            made = await lists_sql.insert_list(
                conn,
                owner_id=owner,
                title=f"{size} members",
                replies_policy="list",
                exclusive=False,
                most=50,
            )
            assert made is not None  # noqa: S101
            members = followed[:size]
            await lists_sql.add_members(conn, list_id=made.id, owner_id=owner, account_ids=members)
            await list_timelines_sql.backfill_members(
                conn, list_id=made.id, account_ids=members, keep=40
            )
            found[made.title] = made.id
        await conn.execute("ANALYZE")
    return owner, session, {size: found[f"{size} members"] for size in SIZES}


async def median_ms(
    conn: asyncpg.Connection, sql: str, args: tuple[object, ...], runs: int
) -> float:
    times = []
    for _ in range(runs):
        plan = await conn.fetchval("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, *args)
        times.append(float(json.loads(plan)[0]["Execution Time"]))
    return statistics.median(times)


async def measure(database_url: str, runs: int) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        owner, session, lists = await seed(conn)
        home = (owner, None, None, PAGE, session)
        before = timelines_sql._HOME_PAGE.replace(", " + timelines_sql._EXCLUSIVE, "").replace(
            timelines_sql._NOT_EXCLUSIVE, ""
        )
        base = await median_ms(conn, before, home, runs)
        report("home_page_before_exclusive", base, "ms")
        report("home_page", await median_ms(conn, timelines_sql._HOME_PAGE, home, runs), "ms", base)
        await conn.execute("UPDATE lists SET exclusive = true WHERE id = $1", lists[10])
        try:
            with_exclusive = await median_ms(conn, timelines_sql._HOME_PAGE, home, runs)
        finally:
            await conn.execute("UPDATE lists SET exclusive = false WHERE id = $1", lists[10])
        report("home_page_with_exclusive_list", with_exclusive, "ms", base)
        for size, list_id in lists.items():
            stored = (owner, None, None, PAGE, list_id)
            page = await median_ms(conn, list_timelines_sql._LIST_PAGE, stored, runs)
            report(f"list_page_{size}_members", page, "ms", base)
        for size, list_id in lists.items():
            on_read = (owner, None, NO_LIMIT, PAGE, list_id)
            page = await median_ms(conn, list_timelines_sql._LIST_ON_READ, on_read, runs)
            report(f"list_page_{size}_members_on_read", page, "ms", base)
    finally:
        await conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30, help="EXPLAIN ANALYZEs per figure")
    args = parser.parse_args()
    source = bench_config(database=SOURCE)
    server_url = source.config.database.url.rsplit("/", 1)[0] + "/postgres"
    asyncio.run(ensure_copy(server_url))
    bench = bench_config(database=COPY)
    prepare_database(bench.env)
    asyncio.run(measure(bench.config.database.url, args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
