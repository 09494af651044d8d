"""`stgy accounts` and `stgy users role/approve/reject/applicants` (run as subprocesses),
on local and remote accounts; every action leaves its audit row."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Any

import asyncpg

from storage import db
from tests.conftest import config_env, create_migrated_database
from tests.integration.test_cli import stgy


async def _query(url: str, sql: str, *args: Any) -> Any:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


def query(url: str, sql: str, *args: Any) -> Any:
    return asyncio.run(_query(url, sql, *args))


def test_accounts_and_users_commands(tmp_path: Path) -> None:
    name = f"stgy_test_cliacc_{secrets.token_hex(4)}"
    url = asyncio.run(create_migrated_database(name))
    env = config_env(url, tmp_path, queue="cliacc")
    approval = {**env, "STGY_INSTANCE_REGISTRATIONS": "approval"}
    try:
        # The first admin, at a single-label host (a local instance's own mail).
        created = stgy("users", "create", "admin", "--email", "admin@localhost", "--admin", env=env)
        assert created.returncode == 0, created.stderr
        assert "role admin" in created.stdout
        made = stgy("users", "create", "mo", "--email", "mo@example.com", env=env)
        assert made.returncode == 0, made.stderr
        # On a public instance a single-label address is still refused.
        public = {**env, "STGY_INSTANCE_DOMAIN": "social.example"}
        refused = stgy("users", "create", "pub", "--email", "pub@localhost", env=public)
        assert refused.returncode == 1 and "not an email address" in refused.stderr

        role = stgy("users", "role", "mo", "moderator", "--comment", "trusted", env=env)
        assert role.returncode == 0 and "role moderator" in role.stdout
        wrong = stgy("users", "role", "mo", "owner", env=env)
        assert wrong.returncode == 2  # argparse: not one of the choices
        last = stgy("users", "role", "admin", "user", env=env)
        assert last.returncode == 1 and "last admin" in last.stderr

        remote = query(
            url,
            "INSERT INTO accounts (handle, domain, ap_id) VALUES"
            " ('troll', 'far.example', 'https://far.example/users/troll') RETURNING id",
        )[0][0]

        warn = stgy("accounts", "warn", "mo", "--comment", "be nice", env=env)
        assert warn.returncode == 0, warn.stderr
        for action in ("sensitive", "limit", "unlimit", "unsensitive"):
            done = stgy("accounts", action, "mo", env=env)
            assert done.returncode == 0, (action, done.stderr)
        again = stgy("accounts", "unlimit", "mo", env=env)
        assert again.returncode == 1 and "active" in again.stderr
        for action in ("limit", "suspend", "unsuspend"):
            done = stgy("accounts", action, "troll@far.example", "--comment", action, env=env)
            assert done.returncode == 0, (action, done.stderr)
        assert (
            "remote"
            in stgy("accounts", "warn", "troll@far.example", "--comment", "x", env=env).stderr
        )
        unknown = stgy("accounts", "limit", "nobody@nowhere.example", env=env)
        assert unknown.returncode == 1 and "no account" in unknown.stderr

        listed = stgy("accounts", "list", "far.example", "--origin", "remote", env=env)
        assert "troll@far.example" in listed.stdout and "limited" in listed.stdout
        shown = stgy("accounts", "show", "troll@far.example", env=env)
        assert shown.returncode == 0, shown.stderr
        assert "account.suspend by cli: suspend" in shown.stdout and "remote" in shown.stdout

        # Suspension of a local user (and the Delete's grace period printed).
        suspended = stgy("accounts", "suspend", "mo", env=env)
        assert suspended.returncode == 0 and "Delete goes out in" in suspended.stdout
        assert "suspended" in stgy("accounts", "list", "--state", "suspended", env=env).stdout
        lifted = stgy("users", "unsuspend", "mo", env=env)
        assert lifted.returncode == 0 and "active again" in lifted.stdout
        assert stgy("accounts", "delete", "mo", env=env).returncode == 1  # needs --yes

        # Applicants: pending accounts are approved (or rejected), not "unsuspended".
        for handle in ("appl", "nope"):
            registered = stgy(
                "users", "create", handle, "--email", f"{handle}@example.com", env=approval
            )
            assert registered.returncode == 0, registered.stderr
        query(
            url,
            "UPDATE users SET approved = false, registration_reason = 'hi'"
            " WHERE account_id IN (SELECT id FROM accounts WHERE handle IN ('appl', 'nope'))",
        )
        waiting = stgy("users", "applicants", env=env)
        assert "appl" in waiting.stdout and "nope" in waiting.stdout and "hi" in waiting.stdout
        pending = stgy("users", "unsuspend", "appl", env=env)
        assert pending.returncode == 1 and "stgy users approve appl" in pending.stderr
        assert stgy("users", "approve", "appl", "--comment", "welcome", env=env).returncode == 0
        assert "active" in stgy("accounts", "show", "appl", env=env).stdout
        assert stgy("users", "reject", "nope", env=env).returncode == 0
        assert stgy("accounts", "show", "nope", env=env).returncode == 1

        deleted = stgy("accounts", "delete", "appl", "--yes", env=env)
        assert deleted.returncode == 0, deleted.stderr

        rows = query(
            url,
            "SELECT target, action, actor FROM audit_log WHERE target_type = 'account' ORDER BY id",
        )
        ids = {
            row["handle"]: str(row["id"]) for row in query(url, "SELECT id, handle FROM accounts")
        }
        by_target: dict[str, list[str]] = {}
        for row in rows:
            assert row["actor"] == "cli"
            by_target.setdefault(row["target"], []).append(row["action"])
        assert by_target[ids["mo"]] == [
            "account.role",
            "account.warn",
            "account.sensitive",
            "account.limit",
            "account.unlimit",
            "account.unsensitive",
            "account.suspend",
            "account.unsuspend",
        ]
        assert by_target[str(remote)] == ["account.limit", "account.suspend", "account.unsuspend"]
        assert by_target[ids["appl"]] == ["account.approve", "account.delete"]
        assert ["account.reject"] in by_target.values()
    finally:
        asyncio.run(db.drop_database(url))
