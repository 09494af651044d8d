"""The `stgy` command, run as a user runs it: a subprocess with an environment."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from stgy import __version__
from storage import db
from tests.conftest import RUN_ID, SERVER_DATABASE_URL, config_env


def stgy(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stgy", *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_version() -> None:
    result = stgy("version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"stgy {__version__}"


@pytest.mark.parametrize(
    "args", [["run"], ["serve"], ["worker"], ["check"], ["db", "migrate"], ["db", "reset"]]
)
def test_every_command_has_help(args: list[str]) -> None:
    result = stgy(*args, "--help")
    assert result.returncode == 0
    assert "usage: stgy" in result.stdout


@pytest.mark.parametrize("args", [[], ["nonsense"], ["db"], ["db", "explode"], ["serve", "--x"]])
def test_bad_usage_exits_2_with_a_message(args: list[str]) -> None:
    result = stgy(*args)
    assert result.returncode == 2
    assert "error:" in result.stderr
    assert "Traceback" not in result.stderr


def test_config_error_is_one_line_and_exit_78(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[server]\nworkers = -1\n")
    result = stgy("check", env={"STGY_CONFIG": str(bad)})
    assert result.returncode == 78
    assert result.stderr.strip() == (
        f"stgy: config error: {bad}: server.workers: must be at least 1 (got -1)"
    )


def test_check_reaches_postgresql_and_redis(database_url: str, tmp_path: Path) -> None:
    result = stgy("check", env=config_env(database_url, tmp_path))
    assert result.returncode == 0, result.stderr
    assert "postgresql: ok" in result.stdout
    assert "redis: ok" in result.stdout
    assert "migrations: up to date" in result.stdout
    assert f"namespace: stgy-test-{RUN_ID}-main (Redis keys;" in result.stdout


def test_check_reports_unreachable_services(database_url: str, tmp_path: Path) -> None:
    env = config_env(database_url, tmp_path, REDIS_URL="redis://127.0.0.1:1/0")
    result = stgy("check", env=env)
    assert result.returncode == 69
    assert "redis: UNREACHABLE" in result.stdout
    assert "Traceback" not in result.stderr


def test_db_migrate_status_and_reset(tmp_path: Path) -> None:
    url = db.with_database(SERVER_DATABASE_URL, f"stgy_test_cli_{secrets.token_hex(4)}")
    env = config_env(url, tmp_path)
    try:
        status = stgy("db", "status", env=env)
        assert status.returncode == 0, status.stderr
        assert "0001_initial.sql" in status.stdout and "pending" in status.stdout

        first = stgy("db", "migrate", env=env)
        assert first.returncode == 0, first.stderr
        assert "created" in first.stderr and "applied 0001_initial.sql" in first.stderr
        again = stgy("db", "migrate", env=env)
        assert again.returncode == 0
        assert "applied" not in again.stderr.replace("0 applied", "")
        assert "pending" not in stgy("db", "status", env=env).stdout

        refused = stgy("db", "reset", env=env)
        assert refused.returncode == 2
        assert "--yes" in refused.stderr
        reset = stgy("db", "reset", "--yes", env=env)
        assert reset.returncode == 0, reset.stderr
        assert "dropped" in reset.stderr and "applied 0001_initial.sql" in reset.stderr
    finally:
        asyncio.run(db.drop_database(url))


def test_migrate_against_nothing_is_a_clear_error(tmp_path: Path) -> None:
    env = config_env("postgresql://127.0.0.1:1/stgy", tmp_path)
    result = stgy("db", "migrate", env=env)
    assert result.returncode == 69
    assert result.stderr.startswith("stgy: cannot reach PostgreSQL at postgresql://127.0.0.1:1/")
    assert "Traceback" not in result.stderr
