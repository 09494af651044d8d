"""Migrations: an empty database gets the schema; concurrent runs apply each file once."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from storage import db, migrations
from tests.conftest import SERVER_DATABASE_URL

CORE_TABLES = {
    "accounts",
    "users",
    "posts",
    "follows",
    "timeline_entries",
    "outbox_events",
    "schema_migrations",
}


@pytest.fixture
async def empty_database() -> AsyncIterator[str]:
    url = db.with_database(SERVER_DATABASE_URL, f"stgy_test_mig_{secrets.token_hex(4)}")
    assert await db.create_database_if_missing(url) is True
    assert await db.create_database_if_missing(url) is False
    yield url
    await db.drop_database(url)


async def test_migrations_build_the_schema_on_an_empty_database(empty_database: str) -> None:
    conn = await asyncpg.connect(empty_database)
    try:
        states = await migrations.status(conn)
        assert states and all(s.applied_at is None for s in states)
        applied = await migrations.migrate(conn)
        assert applied == [m.name for m in migrations.discover()]
        tables = {
            r["table_name"]
            for r in await conn.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
        }
        assert CORE_TABLES <= tables
        columns = {
            (r["table_name"], r["column_name"]): r["data_type"]
            for r in await conn.fetch(
                "SELECT table_name, column_name, data_type FROM information_schema.columns"
                " WHERE table_schema = 'public'"
            )
        }
        assert columns[("posts", "id")] == "bigint"
        assert columns[("accounts", "ap_id")] == "text"
        assert columns[("outbox_events", "payload")] == "jsonb"
        assert columns[("timeline_entries", "owner_id")] == "bigint"
        # A second run has nothing to do.
        assert await migrations.migrate(conn) == []
        assert all(s.applied_at is not None for s in await migrations.status(conn))
    finally:
        await conn.close()


async def test_concurrent_migrate_applies_each_file_exactly_once(empty_database: str) -> None:
    conns = [await asyncpg.connect(empty_database) for _ in range(4)]
    try:
        results = await asyncio.gather(*(migrations.migrate(c) for c in conns))
        files = [m.name for m in migrations.discover()]
        applied = [name for result in results for name in result]
        assert sorted(applied) == sorted(files)
        rows = await conns[0].fetch("SELECT version FROM schema_migrations")
        assert len(rows) == len(files)
    finally:
        for c in conns:
            await c.close()


async def test_ids_are_time_ordered_64_bit(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        ids = [await conn.fetchval("SELECT stgy_next_id()") for _ in range(200)]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        assert all(0 < i < 2**63 for i in ids)
        # The high bits are milliseconds since the Unix epoch.
        now_ms = await conn.fetchval("SELECT floor(extract(epoch FROM now()) * 1000)::bigint")
        assert abs((ids[-1] >> 16) - now_ms) < 60_000
        assert await conn.fetchval("SELECT stgy_id_at(now()) <= stgy_next_id()")
    finally:
        await conn.close()


async def test_changed_migration_is_refused(empty_database: str, tmp_path: Path) -> None:
    (tmp_path / "0001_first.sql").write_text("CREATE TABLE t1 (id int);")
    conn = await asyncpg.connect(empty_database)
    try:
        assert await migrations.migrate(conn, tmp_path) == ["0001_first.sql"]
        (tmp_path / "0001_first.sql").write_text("CREATE TABLE t1 (id bigint);")
        with pytest.raises(migrations.MigrationError, match="changed after it was applied"):
            await migrations.migrate(conn, tmp_path)
    finally:
        await conn.close()


async def test_failing_migration_leaves_nothing_half_applied(
    empty_database: str, tmp_path: Path
) -> None:
    (tmp_path / "0001_ok.sql").write_text("CREATE TABLE t1 (id int);")
    (tmp_path / "0002_bad.sql").write_text("CREATE TABLE t2 (id int); SELECT * FROM missing;")
    conn = await asyncpg.connect(empty_database)
    try:
        with pytest.raises(asyncpg.UndefinedTableError):
            await migrations.migrate(conn, tmp_path)
        assert await conn.fetchval("SELECT to_regclass('t1') IS NOT NULL")
        assert await conn.fetchval("SELECT to_regclass('t2') IS NULL")
        versions = await conn.fetch("SELECT version FROM schema_migrations")
        assert [r["version"] for r in versions] == ["0001"]
    finally:
        await conn.close()
