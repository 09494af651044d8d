"""`stgy services up` falls back to private PostgreSQL and Redis when nothing answers."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import redis.asyncio as aioredis

from stgy.devservices import postgres_answers, redis_answers


def services(*args: str, var_dir: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stgy", "services", *args, "--var-dir", str(var_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_private_servers_start_when_nothing_answers(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    env = {
        **os.environ,
        "DATABASE_URL": "postgresql://127.0.0.1:1/stgy",
        "REDIS_URL": "redis://127.0.0.1:1/0",
    }
    dead_defaults = [
        "--default-database-url=postgresql://127.0.0.1:2/stgy",
        "--default-redis-url=redis://127.0.0.1:2/0",
    ]
    try:
        up = services("up", *dead_defaults, var_dir=var_dir, env=env)
        assert up.returncode == 0, up.stderr
        assert "DATABASE_URL=postgresql://127.0.0.1:1/stgy does not answer" in up.stderr
        assert "started a private server" in up.stderr
        found = dict(line.split("=", 1) for line in up.stdout.split())
        assert found["DATABASE_URL"] != env["DATABASE_URL"]
        assert asyncio.run(postgres_answers(found["DATABASE_URL"]))
        assert asyncio.run(redis_answers(found["REDIS_URL"]))
        assert (var_dir / "postgres" / "data" / "PG_VERSION").exists()

        async def use_them() -> None:
            conn = await asyncpg.connect(found["DATABASE_URL"].replace("/stgy", "/postgres"))
            assert await conn.fetchval("SELECT 1") == 1
            await conn.close()
            client = aioredis.from_url(found["REDIS_URL"])
            assert await client.set("k", "v")
            await client.aclose()

        asyncio.run(use_them())

        # Running it again reuses the same servers.
        again = services("up", *dead_defaults, var_dir=var_dir, env=env)
        assert again.returncode == 0, again.stderr
        assert "already running" in again.stderr
        assert dict(line.split("=", 1) for line in again.stdout.split()) == found
    finally:
        down = services("down", var_dir=var_dir, env=env)
    assert down.returncode == 0, down.stderr
    assert not asyncio.run(postgres_answers(found["DATABASE_URL"], timeout=1))


def test_nothing_to_start_says_what_to_install(tmp_path: Path) -> None:
    # PostgreSQL answers (the real one) but Redis does not, and no redis-server is on PATH.
    env = {
        **os.environ,
        "PATH": str(tmp_path),
        "DATABASE_URL": os.environ.get("DATABASE_URL") or "postgresql://127.0.0.1:5432/stgy",
        "REDIS_URL": "redis://127.0.0.1:1/0",
    }
    result = services(
        "up", "--default-redis-url=redis://127.0.0.1:2/0", var_dir=tmp_path / "var", env=env
    )
    assert result.returncode == 69
    assert "stgy: no Redis found" in result.stderr
    assert "apt install redis-server" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
