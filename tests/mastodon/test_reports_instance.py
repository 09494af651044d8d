"""Reports from a Mastodon app, and the instance's rules, peers and public domain blocks,
through Mastodon.py on a live instance."""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets

import asyncpg
import httpx
import pytest
import requests
from mastodon import MastodonNotFoundError

from tests.conftest import LiveInstance
from tests.mastodon.conftest import Person
from tests.mastodon.entities import REPORT, RULE, assert_entities, assert_entity
from tests.mastodon.test_mastodon_py import logged_in_api
from tests.mastodon.test_statuses import bearer, eventually, second_api


def _sql(live_instance: LiveInstance, query: str, *args: object) -> list[asyncpg.Record]:
    async def run() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(live_instance.config.database.url)
        try:
            return list(await conn.fetch(query, *args))
        finally:
            await conn.close()

    return asyncio.run(run())


def test_reports_and_instance_rules(
    live_instance: LiveInstance,
    session: requests.Session,
    logged_in: httpx.Client,
    http: httpx.Client,
    person: Person,
) -> None:
    api = logged_in_api(live_instance, session, logged_in)
    raw = bearer(live_instance, api)
    other, other_api = second_api(live_instance, session, http)
    rude = other_api.status_post("something rude")
    rule_ids = [
        row["id"]
        for row in _sql(
            live_instance,
            "INSERT INTO instance_rules (position, text) SELECT coalesce(max(position), 0) + 1,"
            " 'No rudeness, test rule.' FROM instance_rules RETURNING id",
        )
    ]
    try:
        # The rules, on their own and in both Instance entities.
        rules = raw.get("/api/v1/instance/rules").json()
        assert_entities(rules, RULE)
        mine = [r for r in rules if r["id"] == str(rule_ids[0])]
        assert mine == [
            {
                "id": str(rule_ids[0]),
                "text": "No rudeness, test rule.",
                "hint": "",
                "translations": {},
            }
        ]
        assert mine[0] in api.instance_v2()["rules"]
        assert mine[0] in raw.get("/api/v1/instance").json()["rules"]

        # A report naming the status and the rule: the Report entity, and the row.
        made = api.report(
            other.id,
            status_ids=[rude["id"]],
            comment="please look",
            category="violation",
            rule_ids=[rule_ids[0]],
        )
        assert made["category"] == "violation" and made["action_taken"] is False
        answer = raw.post(
            "/api/v1/reports",
            data={"account_id": other.id, "category": "legal", "comment": "against the law"},
        )
        assert answer.status_code == 200, answer.text
        assert_entity(answer.json(), REPORT)
        assert answer.json()["category"] == "legal" and answer.json()["status_ids"] is None
        rows = _sql(
            live_instance,
            "SELECT category, comment, post_ids, rule_ids, reporter_id FROM reports"
            " WHERE id = ANY($1::bigint[]) ORDER BY id",
            [int(made["id"]), int(answer.json()["id"])],
        )
        assert [(r["category"], r["comment"]) for r in rows] == [
            ("violation", "please look"),
            ("illegal", "against the law"),
        ]
        assert rows[0]["post_ids"] == [int(rude["id"])]
        assert rows[0]["rule_ids"] == [rule_ids[0]]
        assert {r["reporter_id"] for r in rows} == {int(person.id)}

        # Bad input: clear errors, nothing written.
        before = _sql(live_instance, "SELECT count(*) AS n FROM reports")[0]["n"]
        with pytest.raises(MastodonNotFoundError):
            api.report("999999999999", comment="nobody")
        bad = raw.post("/api/v1/reports", data={"account_id": other.id, "category": "rude"})
        assert bad.status_code == 422 and "category" in bad.json()["error"]
        long = raw.post("/api/v1/reports", data={"account_id": other.id, "comment": "x" * 1001})
        assert long.status_code == 422, long.text
        assert raw.post("/api/v1/reports", data={}).status_code == 404
        assert _sql(live_instance, "SELECT count(*) AS n FROM reports")[0]["n"] == before
    finally:
        _sql(live_instance, "DELETE FROM instance_rules WHERE id = ANY($1::bigint[])", rule_ids)

    # Peers as anyone reads them; no weekly activity kept; the description as HTML.
    assert isinstance(raw.get("/api/v1/instance/peers").json(), list)
    assert raw.get("/api/v1/instance/activity").json() == {"error": "Record not found"}
    described = raw.get("/api/v1/instance/extended_description").json()
    assert set(described) == {"updated_at", "content"}
    raw.close()


def test_public_domain_blocks(live_instance: LiveInstance) -> None:
    """404 while the admins keep them private (the default); listed once shown, obfuscated
    ones with their digest, never the private comment."""
    domain = f"blocked-{secrets.token_hex(4)}.example"
    with httpx.Client(base_url=live_instance.url, timeout=30) as anonymous:
        assert anonymous.get("/api/v1/instance/domain_blocks").status_code == 404
        _sql(
            live_instance,
            "INSERT INTO domain_blocks (domain, severity, public_comment, private_comment)"
            " VALUES ($1, 'silence', 'spam source', 'secret note')",
            domain,
        )
        _sql(
            live_instance,
            "INSERT INTO instance_settings (id, show_domain_blocks) VALUES (true, true)"
            " ON CONFLICT (id) DO UPDATE SET show_domain_blocks = true",
        )
        try:
            # Settings reach the server within its cache's 5 seconds.
            shown = eventually(
                lambda: (
                    anonymous.get("/api/v1/instance/domain_blocks").status_code == 200
                    and anonymous.get("/api/v1/instance/domain_blocks").json()
                ),
                "the blocks are shown",
                seconds=15,
            )
            ours = [b for b in shown if b["domain"] == domain]
            assert ours == [
                {
                    "domain": domain,
                    "digest": hashlib.sha256(domain.encode()).hexdigest(),
                    "severity": "silence",
                    "comment": "spam source",
                }
            ]
            assert "secret note" not in json.dumps(shown)
        finally:
            _sql(live_instance, "UPDATE instance_settings SET show_domain_blocks = false")
            _sql(live_instance, "DELETE FROM domain_blocks WHERE domain = $1", domain)
