"""Instance rules and live instance settings through the native API (issue 17): admins
only, audited; the rules shown on /about and at sign-up; the settings read by /about,
NodeInfo, the instance actor, the sign-up and /api/instance."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from quart.typing import TestClientProtocol as Client

from stgy.domain import instance_settings, rules
from stgy.domain.roles import CLI
from stgy.services import Services
from tests.integration.test_domain_blocks import make_staff, value


@pytest.fixture
async def settings_restored(services: Services) -> AsyncIterator[None]:
    """The suite shares one database: put instance.toml's values back afterwards."""
    yield
    await instance_settings.update(
        services,
        CLI,
        {name: None for name in instance_settings.FIELDS} | {"show_domain_blocks": False},
    )


async def test_rules_are_edited_by_admins_in_order_and_shown(
    client: Client, services: Services
) -> None:
    admin = await make_staff(client, services, "admin")
    moderator = await make_staff(client, services, "moderator")
    refused = await client.post("/api/admin/rules", json={"text": "x"}, headers=moderator)
    assert refused.status_code == 403
    made = []
    for text in ("Be kind.", "No spam.", "Mark sensitive media."):
        answer = await client.post("/api/admin/rules", json={"text": text}, headers=admin)
        assert answer.status_code == 201
        made.append((await answer.get_json())["id"])
    empty = await client.post("/api/admin/rules", json={"text": "  "}, headers=admin)
    assert empty.status_code == 400 and (await empty.get_json())["detail"]["field"] == "text"
    moved = await client.patch(
        f"/api/admin/rules/{made[2]}", json={"position": 0, "text": "Mark media."}, headers=admin
    )
    assert moved.status_code == 200
    mine = [r for r in (await moved.get_json())["rules"] if r["id"] in made]
    assert [r["text"] for r in mine] == ["Mark media.", "Be kind.", "No spam."]
    public = await (await client.get("/api/instance/rules")).get_json()
    assert [r["text"] for r in public["rules"] if r["id"] in made] == [
        "Mark media.",
        "Be kind.",
        "No spam.",
    ]
    assert [r.text for r in await rules.list_rules(services) if str(r.id) in made][0] == (
        "Mark media."
    )
    about = await (await client.get("/about")).get_data(as_text=True)
    assert about.index("Mark media.") < about.index("Be kind.") < about.index("No spam.")
    signup = await (await client.get("/auth/signup")).get_data(as_text=True)
    assert "Rules of this server" in signup and "No spam." in signup
    assert (
        await client.delete(f"/api/admin/rules/{made[0]}", headers=moderator)
    ).status_code == 403
    for rule_id in made:
        assert (
            await client.delete(f"/api/admin/rules/{rule_id}", headers=admin)
        ).status_code == 204
    assert (await client.delete(f"/api/admin/rules/{made[0]}", headers=admin)).status_code == 404
    actions = [
        await value(
            services,
            "SELECT string_agg(action, ',' ORDER BY id) FROM audit_log"
            " WHERE target_type = 'rule' AND target = $1",
            rule_id,
        )
        for rule_id in made
    ]
    assert actions == [
        "rule.create,rule.delete",
        "rule.create,rule.delete",
        "rule.create,rule.update,rule.move,rule.delete",
    ]


async def test_settings_change_live_everywhere(
    client: Client, services: Services, settings_restored: None
) -> None:
    admin = await make_staff(client, services, "admin")
    moderator = await make_staff(client, services, "moderator")
    change = {
        "name": "Renamed Town",
        "description": "A renamed place",
        "contact_email": "mod@town.example",
    }
    assert (
        await client.patch("/api/admin/settings", json=change, headers=moderator)
    ).status_code == 403
    bad = await client.patch("/api/admin/settings", json={"contact_email": "nope"}, headers=admin)
    assert bad.status_code == 400 and (await bad.get_json())["detail"]["field"] == "contact_email"
    bad_mode = await client.patch(
        "/api/admin/settings", json={"registrations": "maybe"}, headers=admin
    )
    assert bad_mode.status_code == 400
    answer = await client.patch("/api/admin/settings", json=change, headers=admin)
    assert answer.status_code == 200
    assert sorted((await answer.get_json())["overridden"]) == [
        "contact_email",
        "description",
        "name",
    ]

    about = await (await client.get("/about")).get_data(as_text=True)
    assert "About Renamed Town" in about and "mod@town.example" in about
    home = await (await client.get("/")).get_data(as_text=True)
    assert "Renamed Town" in home
    nodeinfo = await (await client.get("/nodeinfo/2.1")).get_json()
    assert nodeinfo["metadata"]["nodeName"] == "Renamed Town"
    actor = await (
        await client.get("/actor", headers={"Accept": "application/activity+json"})
    ).get_json()
    assert actor["name"] == "Renamed Town"
    instance = await (await client.get("/api/instance")).get_json()
    assert instance["name"] == "Renamed Town" and instance["contact_email"] == "mod@town.example"

    closed = await client.patch(
        "/api/admin/settings", json={"registrations": "closed"}, headers=admin
    )
    assert (await closed.get_json())["registrations"] == "closed"
    refused = await client.post(
        "/api/accounts",
        json={"handle": "closedout", "password": "long enough pass 1", "email": "c@x.example"},
    )
    assert refused.status_code == 403
    signup = await (await client.get("/auth/signup")).get_data(as_text=True)
    assert "does not accept new accounts" in signup
    assert (await (await client.get("/nodeinfo/2.1")).get_json())["openRegistrations"] is False

    back = await client.patch(
        "/api/admin/settings", json={"name": None, "registrations": None}, headers=admin
    )
    assert (await back.get_json())["name"] == services.config.instance.name
    details = await value(
        services,
        "SELECT details::text FROM audit_log WHERE action = 'instance.settings'"
        " ORDER BY id DESC LIMIT 1",
    )
    assert '"registrations": {"after": null, "before": "closed"}' in details


async def test_about_lists_domain_blocks_when_the_admins_choose(
    client: Client, services: Services, settings_restored: None
) -> None:
    admin = await make_staff(client, services, "admin")
    made = await client.post(
        "/api/admin/domain_blocks",
        json={
            "domain": "shown-on-about.example",
            "severity": "silence",
            "public_comment": "harassment",
            "private_comment": "secret note",
            "obfuscate": True,
        },
        headers=admin,
    )
    assert made.status_code == 201
    about = await (await client.get("/about")).get_data(as_text=True)
    assert "Moderated servers" not in about
    assert (await client.get("/api/instance/domain_blocks")).status_code == 404
    await client.patch("/api/admin/settings", json={"show_domain_blocks": True}, headers=admin)
    about = await (await client.get("/about")).get_data(as_text=True)
    assert "Moderated servers" in about and "harassment" in about
    assert "shown-on-about.example" not in about and "secret note" not in about
    listed = await (await client.get("/api/instance/domain_blocks")).get_json()
    mine = [b for b in listed["domain_blocks"] if b["comment"] == "harassment"]
    assert mine and "*" in mine[0]["domain"] and len(mine[0]["digest"]) == 64
    await client.delete(f"/api/admin/domain_blocks/{(await made.get_json())['id']}", headers=admin)


async def test_the_openapi_document_names_the_new_endpoints(client: Client) -> None:
    answer = await client.get("/api/openapi.json")
    assert answer.status_code == 200
    paths = (await answer.get_json())["paths"]
    for path in (
        "/api/admin/domain_blocks",
        "/api/admin/domain_blocks/{block_id}",
        "/api/admin/domain_blocks/import",
        "/api/admin/domain_blocks/export",
        "/api/admin/rules",
        "/api/admin/rules/{rule_id}",
        "/api/admin/settings",
        "/api/instance",
        "/api/instance/rules",
        "/api/instance/domain_blocks",
    ):
        assert path in paths, path
    assert "patch" in paths["/api/admin/settings"]
