"""`stgy reports`: create (for scripts), list, show, note, resolve, reopen; each leaves an
audit row by 'cli'; refusals are one line and exit 1."""

from __future__ import annotations

import asyncio
import re
import secrets
from pathlib import Path

import asyncpg

from storage import db
from tests.conftest import config_env, create_migrated_database
from tests.integration.test_cli import stgy


async def _seed(url: str) -> tuple[int, int]:
    conn = await asyncpg.connect(url)
    try:
        account = await conn.fetchval(
            "INSERT INTO accounts (handle, ap_id) VALUES ('spammer', 'http://x/users/spammer')"
            " RETURNING id"
        )
        post = await conn.fetchval(
            "INSERT INTO posts (account_id, ap_id, source, html) VALUES ($1,"
            " 'http://x/users/spammer/statuses/1', 'cheap pills', '<p>cheap pills</p>')"
            " RETURNING id",
            account,
        )
        return account, post
    finally:
        await conn.close()


async def _audit(url: str) -> list[tuple[str, str]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT actor, action FROM audit_log ORDER BY id")
        return [(row[0], row[1]) for row in rows]
    finally:
        await conn.close()


def test_reports_from_the_command_line(tmp_path: Path) -> None:
    name = f"stgy_test_clirep_{secrets.token_hex(4)}"
    url = asyncio.run(create_migrated_database(name))
    env = config_env(url, tmp_path, queue="clirep")
    try:
        _account, post = asyncio.run(_seed(url))
        made = stgy(
            "reports", "create", "@spammer", "--post", str(post), "--category", "spam",
            "--comment", "from a script", env=env,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        found = re.fullmatch(r"report #(\d+) created\n", made.stdout)
        assert found, made.stdout
        report = found.group(1)

        nobody = stgy("reports", "create", "@nobody", env=env)
        assert nobody.returncode == 1 and "no such account" in nobody.stderr
        rule = stgy(
            "reports", "create", "@spammer", "--category", "violation", "--rule", "5", env=env
        )
        assert rule.returncode == 1 and "rule_ids: no such rule: 5" in rule.stderr
        local = stgy("reports", "create", "@spammer", "--forward", env=env)
        assert local.returncode == 1 and "forward:" in local.stderr

        listed = stgy("reports", "list", env=env)
        assert f"#{report}" in listed.stdout and "about spammer  spam" in listed.stdout
        assert "from cli: from a script" in listed.stdout
        shown = stgy("reports", "show", report, env=env)
        assert shown.returncode == 0, shown.stderr
        assert f"post {post}" in shown.stdout and "cheap pills" in shown.stdout

        assert stgy("reports", "note", report, "seen it", env=env).returncode == 0
        resolved = stgy("reports", "resolve", report, "--comment", "suspended", env=env)
        assert resolved.returncode == 0 and f"report #{report} resolved" in resolved.stdout
        again = stgy("reports", "resolve", report, env=env)
        assert again.returncode == 1 and "resolved already" in again.stderr
        assert "no open reports" in stgy("reports", "list", env=env).stdout
        assert f"#{report}" in stgy("reports", "list", "--resolved", env=env).stdout
        assert stgy("reports", "reopen", report, env=env).returncode == 0
        assert f"#{report}" in stgy("reports", "list", "--account", "@spammer", env=env).stdout
        shown = stgy("reports", "show", report, env=env).stdout
        assert "note by cli" in shown and "log " in shown and "report.resolve suspended" in shown
        missing = stgy("reports", "show", "999", env=env)
        assert missing.returncode == 1 and "no such report" in missing.stderr

        assert asyncio.run(_audit(url)) == [
            ("cli", "report.create"),
            ("cli", "report.note"),
            ("cli", "report.resolve"),
            ("cli", "report.reopen"),
        ]
    finally:
        asyncio.run(db.drop_database(url))
