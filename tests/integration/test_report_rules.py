"""Reports name the instance's rules (table `instance_rules`, kept by the rules part of
issue 17) when it has some: on a database of its own that has the table."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from stgy.config import load_config
from stgy.domain import reports, roles
from stgy.domain.errors import Invalid
from stgy.domain.reports import NewReport
from stgy.services import Services
from storage import db
from tests.conftest import config_env, create_migrated_database, make_user, serving
from tests.web.test_web_posts import web_login

# The table as the rules part makes it (migration 0025); kept if that part made it.
RULES_TABLE = (
    "CREATE TABLE IF NOT EXISTS instance_rules (id bigserial PRIMARY KEY,"
    " position integer NOT NULL, text text NOT NULL CHECK (text <> ''),"
    " created_at timestamptz NOT NULL DEFAULT now(),"
    " updated_at timestamptz NOT NULL DEFAULT now())"
)


@pytest.fixture
async def ruled(tmp_path: Path) -> AsyncIterator[tuple[Services, str, list[int], int, int]]:
    url = await create_migrated_database(f"stgy_test_rules_{secrets.token_hex(4)}")
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(RULES_TABLE)
        rules = [
            await conn.fetchval(
                "INSERT INTO instance_rules (position, text) VALUES ($1, $2) RETURNING id", i, t
            )
            for i, t in enumerate(("No spam.", "Be kind to each other."))
        ]
        target = await conn.fetchval(
            "INSERT INTO accounts (handle, ap_id) VALUES ('rude', 'http://x/users/rude')"
            " RETURNING id"
        )
        reporter = await conn.fetchval(
            "INSERT INTO accounts (handle, ap_id) VALUES ('kind', 'http://x/users/kind')"
            " RETURNING id"
        )
    finally:
        await conn.close()
    config = load_config(environ=config_env(url, tmp_path, queue="rules"))
    services = await Services.start(config)
    try:
        yield services, url, rules, target, reporter
    finally:
        await services.close()
        await db.drop_database(url)


async def test_violations_name_existing_rules(
    ruled: tuple[Services, str, list[int], int, int],
) -> None:
    services, _url, (spam_rule, kind_rule), target, reporter = ruled
    form = await reports.report_form(services, reporter, target, ())
    assert [r.text for r in form.rules] == ["No spam.", "Be kind to each other."]
    for rule_ids, reason in (((), "name the rules"), ((999,), "no such rule: 999")):
        with pytest.raises(Invalid) as refused:
            await reports.create_report(
                services, reporter, NewReport(target, category="violation", rule_ids=rule_ids)
            )
        assert refused.value.field == "rule_ids" and reason in refused.value.reason
    made = await reports.create_report(
        services, reporter, NewReport(target, category="violation", rule_ids=(kind_rule,))
    )
    assert made.rule_ids == [kind_rule]
    detail = await reports.get_report(services, roles.CLI, made.id)
    assert [r.text for r in detail.rules] == ["Be kind to each other."]

    # The form offers the rules; the report page shows their texts, and says when one
    # was deleted since.
    async with serving(services.config) as app:
        client = app.test_client()
        member = await make_user(client)
        await web_login(client, member)
        form_page = await (await client.get(f"/report?account={target}")).get_data(as_text=True)
        assert f'name="rule" type="checkbox" value="{spam_rule}"' in form_page
        assert "Be kind to each other." in form_page
        async with services.pool.acquire() as conn:
            await conn.execute(
                "UPDATE users SET role = 'moderator' WHERE account_id = $1", int(member.id)
            )
        page = await (await client.get(f"/admin/reports/{made.id}")).get_data(as_text=True)
        assert "<li>Be kind to each other.</li>" in page
        async with services.pool.acquire() as conn:
            await conn.execute("DELETE FROM instance_rules WHERE id = $1", kind_rule)
        page = await (await client.get(f"/admin/reports/{made.id}")).get_data(as_text=True)
        assert "Be kind to each other." not in page and "rules deleted since" in page
