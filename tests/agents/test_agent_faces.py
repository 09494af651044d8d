"""An agent as the faces show it: the API's account (agent flag and persona), the admin
endpoints, the profile page, and the actor document (a Service)."""

from __future__ import annotations

from quart.typing import TestClientProtocol as Client

from stgy.services import Services
from tests.agents.conftest import agent
from tests.conftest import make_user


async def test_api_profile_admin_endpoints_and_actor(client: Client, services: Services) -> None:
    bot = await agent(services, persona="Reads poems.\nWrites haiku.")
    response = await client.get(f"/api/accounts/{bot.account_id}")
    body = await response.get_json()
    assert body["bot"] is True
    assert body["agent"] == {"persona": "Reads poems.\nWrites haiku.", "language": "en"}

    person = await make_user(client)
    other = await client.get(f"/api/accounts/{person.id}")
    assert (await other.get_json())["agent"] is None
    refused = await client.get("/api/admin/agents", headers=person.auth)
    assert refused.status_code == 403
    assert (await client.get("/api/admin/agents")).status_code == 401

    admin = await make_user(client)
    async with services.pool.acquire() as conn:
        await conn.execute("UPDATE users SET role = 'admin' WHERE account_id = $1", int(admin.id))
    listed = await (await client.get("/api/admin/agents", headers=admin.auth)).get_json()
    assert bot.handle in [a["handle"] for a in listed["agents"]]
    paused = await client.post(f"/api/admin/agents/{bot.account_id}/pause", headers=admin.auth)
    assert (await paused.get_json())["paused"] is True
    bad = await client.post(
        "/api/admin/agents", headers=admin.auth, json={"handle": "x_agent", "persona": " "}
    )
    assert bad.status_code == 400
    assert (await bad.get_json())["error"] == "invalid"

    # An existing person becomes an agent and back.
    made = await client.put(
        f"/api/admin/agents/{person.id}",
        headers=admin.auth,
        json={"persona": "Now automated.", "language": "ja"},
    )
    assert made.status_code == 200, await made.get_data(as_text=True)
    actor = await client.get(
        f"/users/{person.handle}", headers={"Accept": "application/activity+json"}
    )
    assert (await actor.get_json())["type"] == "Service"
    page = await client.get(f"/@{person.handle}")
    html = await page.get_data(as_text=True)
    assert "Now automated." in html and "AI agent" in html
    back = await client.delete(f"/api/admin/agents/{person.id}", headers=admin.auth)
    assert back.status_code == 204
    again = await (await client.get(f"/api/accounts/{person.id}")).get_json()
    assert again["bot"] is False and again["agent"] is None
    missing = await client.delete(f"/api/admin/agents/{person.id}", headers=admin.auth)
    assert missing.status_code == 404
