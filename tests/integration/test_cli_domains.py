"""`stgy domains`, `stgy rules` and `stgy settings` (issue 17), on a database of their
own: each change is audited as the CLI; `stgy instances block` makes a suspension."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Any

import asyncpg

from storage import db
from tests.conftest import config_env, create_migrated_database
from tests.integration.test_cli import stgy


def fetch(url: str, query: str) -> list[Any]:
    async def run() -> list[Any]:
        conn = await asyncpg.connect(url)
        try:
            return [tuple(r) for r in await conn.fetch(query)]
        finally:
            await conn.close()

    return asyncio.run(run())


def test_domains_rules_and_settings_commands(tmp_path: Path) -> None:
    url = asyncio.run(create_migrated_database(f"stgy_test_dom_{secrets.token_hex(4)}"))
    env = config_env(url, tmp_path, queue="dom")
    try:
        made = stgy(
            "domains", "block", "Silenced.Example", "--severity", "silence",
            "--public-comment", "spam", "--private-comment", "from a report", env=env,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        assert "silenced.example: silence (created)" in made.stdout
        media = stgy("domains", "block", "pics.example", "--severity", "reject_media", env=env)
        assert "pics.example: noop +reject_media (created)" in media.stdout
        assert stgy("instances", "block", "bad.example", env=env).returncode == 0
        listed = stgy("domains", "list", env=env).stdout
        assert "silenced.example\tsilence\tno\tno\tno\tspam\tfrom a report" in listed
        assert "bad.example\tsuspend" in listed
        assert "bad.example\tyes" in stgy("instances", "list", "--blocked", env=env).stdout
        bad = stgy("domains", "block", "x.example", "--public-comment", "x" * 1001, env=env)
        assert bad.returncode == 1 and "public_comment" in bad.stderr

        exported = tmp_path / "blocks.csv"
        assert stgy("domains", "export", "-o", str(exported), env=env).returncode == 0
        text = exported.read_text()
        assert text.startswith("#domain,#severity,#reject_media,#reject_reports,")
        assert "pics.example,noop,true,false,,false" in text
        for domain in ("silenced.example", "pics.example", "bad.example"):
            assert stgy("domains", "unblock", domain, env=env).returncode == 0
        assert "bad.example\tno" in stgy("instances", "list", env=env).stdout
        missing = stgy("domains", "unblock", "bad.example", env=env)
        assert missing.returncode == 1 and "not blocked" in missing.stderr
        imported = stgy("domains", "import", str(exported), env=env)
        assert "3 created, 0 changed, 0 unchanged" in imported.stdout, imported.stderr
        # The private comment is not in the CSV: the re-imported block has none.
        assert (
            "silenced.example\tsilence\tno\tno\tno\tspam\t\n"
            in stgy("domains", "list", env=env).stdout
        )
        broken = tmp_path / "broken.csv"
        broken.write_text("#domain,#severity\nok.example,suspend\n,suspend\n")
        refused = stgy("domains", "import", str(broken), env=env)
        assert refused.returncode == 1 and "line 3" in refused.stderr
        assert fetch(url, "SELECT domain FROM domain_blocks WHERE domain = 'ok.example'") == []

        assert stgy("rules", "add", "Be kind.", env=env).returncode == 0
        assert stgy("rules", "add", "No spam.", env=env).returncode == 0
        rule_ids = [row[0] for row in fetch(url, "SELECT id FROM instance_rules ORDER BY id")]
        assert stgy("rules", "move", str(rule_ids[1]), "1", env=env).returncode == 0
        assert stgy("rules", "edit", str(rule_ids[0]), "Be very kind.", env=env).returncode == 0
        rules = stgy("rules", "list", env=env).stdout.splitlines()
        assert rules == [f"1. [{rule_ids[1]}] No spam.", f"2. [{rule_ids[0]}] Be very kind."]
        assert stgy("rules", "remove", str(rule_ids[1]), env=env).returncode == 0
        assert stgy("rules", "remove", str(rule_ids[1]), env=env).returncode == 1

        changed = stgy(
            "settings", "set", "--name", "CLI Town", "--registrations", "approval",
            "--show-domain-blocks", "yes", env=env,
        )  # fmt: skip
        assert changed.returncode == 0, changed.stderr
        assert "name\tCLI Town\t(set by an admin)" in changed.stdout
        assert "registrations\tapproval\t(set by an admin)" in changed.stdout
        assert "show_domain_blocks\tyes" in changed.stdout
        reset = stgy("settings", "set", "--reset", "name", env=env).stdout
        assert "name\tstgy\t(instance.toml)" in reset
        invalid = stgy("settings", "set", "--contact-email", "nope", env=env)
        assert invalid.returncode == 1 and "contact_email" in invalid.stderr

        actions = fetch(url, "SELECT actor, action FROM audit_log ORDER BY id")
        assert {actor for actor, _ in actions} == {"cli"}
        assert [a for _, a in actions].count("domain_block.create") == 6
        assert [a for _, a in actions].count("domain_block.delete") == 3
        assert [a for _, a in actions].count("instance.settings") == 2
        assert {"rule.create", "rule.move", "rule.update", "rule.delete"} <= {a for _, a in actions}
    finally:
        asyncio.run(db.drop_database(url))
