"""Admin commands for federation: instances list/block/unblock, reports list/resolve."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import asyncpg

from storage import db
from storage import deliveries as deliveries_sql
from tests.conftest import config_env, create_migrated_database
from tests.integration.test_cli import stgy


async def _seed(url: str) -> tuple[int, int]:
    """A local account followed by a remote one on sub.bad.example, and a report."""
    conn = await asyncpg.connect(url)
    try:
        local = await conn.fetchval(
            "INSERT INTO accounts (handle, ap_id) VALUES ('mod_target', 'http://x/users/t')"
            " RETURNING id"
        )
        remote = await conn.fetchval(
            "INSERT INTO accounts (handle, domain, ap_id, inbox_url, shared_inbox_url)"
            " VALUES ('r', 'sub.bad.example', 'https://sub.bad.example/users/r',"
            " 'https://sub.bad.example/users/r/inbox', 'https://sub.bad.example/inbox')"
            " RETURNING id"
        )
        await conn.execute(
            "INSERT INTO follows (follower_id, followee_id, state) VALUES ($1, $2, 'accepted')",
            remote,
            local,
        )
        report = await conn.fetchval(
            "INSERT INTO reports (ap_id, reporter_id, target_account_id, comment)"
            " VALUES ('https://sub.bad.example/flags/1', $1, $2, 'spam here') RETURNING id",
            remote,
            local,
        )
        return local, report
    finally:
        await conn.close()


async def _inboxes(url: str, account_id: int) -> list[str]:
    conn = await asyncpg.connect(url)
    try:
        return await deliveries_sql.follower_inboxes(conn, account_id=account_id)
    finally:
        await conn.close()


def test_block_unblock_and_reports(tmp_path: Path) -> None:
    name = f"stgy_test_mod_{secrets.token_hex(4)}"
    url = asyncio.run(create_migrated_database(name))
    env = config_env(url, tmp_path, queue="mod")
    try:
        local, report = asyncio.run(_seed(url))
        assert asyncio.run(_inboxes(url, local)) == ["https://sub.bad.example/inbox"]

        blocked = stgy("instances", "block", "Bad.Example", env=env)
        assert blocked.returncode == 0, blocked.stderr
        assert "blocked bad.example" in blocked.stdout
        # The block covers the subdomain: nothing is delivered to its accounts.
        assert asyncio.run(_inboxes(url, local)) == []
        listed = stgy("instances", "list", "--blocked", env=env)
        assert "bad.example\tyes" in listed.stdout
        bad = stgy("instances", "block", "not a domain!", env=env)
        assert bad.returncode == 1 and "domain:" in bad.stderr
        assert stgy("instances", "unblock", "bad.example", env=env).returncode == 0
        assert "bad.example\tno" in stgy("instances", "list", env=env).stdout
        # A block is a suspension (issue 17): it cut the follow, which stays cut.
        assert asyncio.run(_inboxes(url, local)) == []

        open_reports = stgy("reports", "list", env=env)
        assert f"#{report}" in open_reports.stdout and "spam here" in open_reports.stdout
        assert "about mod_target" in open_reports.stdout
        assert stgy("reports", "resolve", str(report), env=env).returncode == 0
        assert "no open reports" in stgy("reports", "list", env=env).stdout
        assert f"#{report}" in stgy("reports", "list", "--all", env=env).stdout
        again = stgy("reports", "resolve", str(report), env=env)
        assert again.returncode == 1 and "resolved already" in again.stderr
    finally:
        asyncio.run(db.drop_database(url))
