"""Admin commands: users, reset-data, reset-data-test, reset-cache (run as subprocesses)."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import asyncpg

from storage import db
from tests.conftest import config_env, create_migrated_database
from tests.integration.test_cli import stgy


def test_users_lifecycle_and_bulk_data(tmp_path: Path) -> None:
    name = f"stgy_test_admin_{secrets.token_hex(4)}"
    url = asyncio.run(create_migrated_database(name))
    env = config_env(url, tmp_path, queue="admin")
    try:
        created = stgy(
            "users", "create", "boss", "--email", "boss@example.com", "--role", "admin", env=env
        )
        assert created.returncode == 0, created.stderr
        assert "password: " in created.stdout  # a random one, printed once
        listed = stgy("users", "list", env=env)
        assert "boss" in listed.stdout and "admin" in listed.stdout

        assert stgy("users", "suspend", "boss", env=env).returncode == 0
        assert "suspended" in stgy("users", "list", env=env).stdout
        assert stgy("users", "unsuspend", "boss", env=env).returncode == 0
        weak = stgy("users", "reset-password", "boss", "--password", "short", env=env)
        assert weak.returncode == 1 and "password: must be at least 8" in weak.stderr
        good = stgy("users", "reset-password", "boss", "--password", "a much better one", env=env)
        assert good.returncode == 0, good.stderr
        missing = stgy("users", "suspend", "nobody_here", env=env)
        assert missing.returncode == 1 and "no local user" in missing.stderr

        assert stgy("users", "delete", "boss", env=env).returncode == 1  # needs --yes
        assert stgy("users", "delete", "boss", "--yes", env=env).returncode == 0
        assert "deleted" in stgy("users", "list", env=env).stdout

        assert stgy("reset-data-test", "--users", "30", env=env).returncode == 1  # needs --yes
        seeded = stgy(
            "reset-data-test",
            "--users",
            "30",
            "--posts-per-user",
            "5",
            "--follows-per-user",
            "4",
            "--yes",
            env=env,
        )
        assert seeded.returncode == 0, seeded.stderr
        assert "30 users" in seeded.stdout and "150 posts" in seeded.stdout

        async def check() -> None:
            conn = await asyncpg.connect(url)
            try:
                assert await conn.fetchval("SELECT count(*) FROM accounts") == 30
                assert await conn.fetchval("SELECT sum(posts_count) FROM accounts") == 150
                follows = await conn.fetchval("SELECT count(*) FROM follows")
                assert 0 < follows <= 120
                assert await conn.fetchval("SELECT sum(following_count) FROM accounts") == follows
                # Every follower sees their followees' posts at home.
                missing = await conn.fetchval(
                    "SELECT count(*) FROM follows f JOIN posts p ON p.account_id = f.followee_id"
                    " LEFT JOIN timeline_entries t ON t.owner_id = f.follower_id"
                    " AND t.post_id = p.id WHERE t.post_id IS NULL"
                )
                assert missing == 0
            finally:
                await conn.close()

        asyncio.run(check())
        assert stgy("reset-data", env=env).returncode == 1  # needs --yes
        emptied = stgy("reset-data", "--yes", env=env)
        assert emptied.returncode == 0
        assert len(stgy("users", "list", env=env).stdout.strip().splitlines()) == 1
        assert stgy("reset-cache", env=env).returncode == 0
    finally:
        asyncio.run(db.drop_database(url))
