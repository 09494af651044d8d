"""Every native API route that takes an account id takes `@handle` and `@user@host` too
(stgy.api.account_refs); the OpenAPI document says so."""

from __future__ import annotations

from quart.typing import TestClientProtocol as Client

from stgy.services import Services
from tests.conftest import make_user
from tests.integration.test_outbox import drain
from tests.integration.timeline_support import remote_account


async def _acct_of(services: Services, account_id: int) -> str:
    async with services.pool.acquire() as conn:
        row = await conn.fetchrow("SELECT handle, domain FROM accounts WHERE id = $1", account_id)
    return f"@{row['handle']}@{row['domain']}"


async def test_each_account_route_takes_a_handle(client: Client, services: Services) -> None:
    me, alice = await make_user(client), await make_user(client)
    ref = f"@{alice.handle}"
    for path in (ref, f"@{alice.handle.upper()}", f"{ref}@localhost:8000"):
        response = await client.get(f"/api/accounts/{path}")
        assert response.status_code == 200, path
        assert (await response.get_json())["id"] == alice.id

    assert (await client.put(f"/api/accounts/{ref}/follow", headers=me.auth)).status_code == 204
    following = await (await client.get(f"/api/accounts/@{me.handle}/following")).get_json()
    assert [a["id"] for a in following["accounts"]] == [alice.id]
    followers = await (await client.get(f"/api/accounts/{ref}/followers")).get_json()
    assert [a["id"] for a in followers["accounts"]] == [me.id]
    assert (await client.get(f"/api/accounts/{ref}/posts")).status_code in (200, 204)
    assert (await client.delete(f"/api/accounts/{ref}/follow", headers=me.auth)).status_code == 204
    followers = await (await client.get(f"/api/accounts/{ref}/followers")).get_json()
    assert followers["accounts"] == []

    for method in (client.put, client.delete):
        for what in ("mute", "block"):
            response = await method(f"/api/accounts/{ref}/{what}", headers=me.auth)
            assert response.status_code == 204, (method, what)


async def test_follow_requests_take_a_handle(client: Client, services: Services) -> None:
    owner = await make_user(client, locked=True)
    first, second = await make_user(client), await make_user(client)
    for follower in (first, second):
        response = await client.put(f"/api/accounts/@{owner.handle}/follow", headers=follower.auth)
        assert response.status_code == 202
    accept = f"/api/follow_requests/@{first.handle}/accept"
    assert (await client.post(accept, headers=owner.auth)).status_code == 204
    reject = f"/api/follow_requests/@{second.handle}/reject"
    assert (await client.post(reject, headers=owner.auth)).status_code == 204
    await drain(services)
    followers = await (await client.get(f"/api/accounts/{owner.id}/followers")).get_json()
    assert [a["id"] for a in followers["accounts"]] == [first.id]


async def test_known_remote_accounts_by_user_at_host(client: Client, services: Services) -> None:
    me = await make_user(client)
    remote = await remote_account(services, handle="farfriend")
    acct = await _acct_of(services, remote)
    response = await client.put(f"/api/accounts/{acct}/follow", headers=me.auth)
    assert response.status_code == 202 and await response.get_json() == {"state": "pending"}
    assert (await client.put(f"/api/accounts/{acct}/mute", headers=me.auth)).status_code == 204
    found = await (await client.get(f"/api/accounts/{acct}/followers")).get_json()
    assert found["accounts"] == []
    assert (await client.get(f"/api/accounts/{acct}")).status_code == 200


async def test_unknown_handles_are_not_found_malformed_ones_invalid(client: Client) -> None:
    me = await make_user(client)
    for ref, status, error in (
        ("@nobody_here", 404, "not_found"),
        ("@nobody@unknown.example", 404, "not_found"),
        ("@", 400, "invalid"),
        ("@a@b@c", 400, "invalid"),
        ("@x%00y", 400, "invalid"),
    ):
        for method, path in (
            (client.put, f"/api/accounts/{ref}/follow"),
            (client.delete, f"/api/accounts/{ref}/block"),
            (client.get, f"/api/accounts/{ref}/followers"),
            (client.get, f"/api/accounts/{ref}/following"),
            (client.post, f"/api/follow_requests/{ref}/accept"),
        ):
            response = await method(path, headers=me.auth)
            assert response.status_code == status, (path, response.status_code)
            body = await response.get_json()
            assert body["error"] == error
            if status == 400:
                assert body["detail"]["field"] == "acct"


async def test_openapi_describes_account_references(client: Client) -> None:
    document = await (await client.get("/api/openapi.json")).get_json()
    for path in (
        "/api/accounts/{account_id}",
        "/api/accounts/{account_id}/follow",
        "/api/accounts/{account_id}/followers",
        "/api/accounts/{account_id}/posts",
        "/api/follow_requests/{account_id}/accept",
    ):
        for operation in document["paths"][path].values():
            (parameter,) = [p for p in operation["parameters"] if p["name"] == "account_id"]
            assert "@handle" in parameter["description"], path
