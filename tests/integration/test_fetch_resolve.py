"""Resolving remote accounts by `@user@host` and by actor URL, against a Mastodon-shaped
server on loopback: stored once, answered from the database while fresh, refreshed in a
job when stale, 404 or an empty search when unknown, and never through the SSRF guard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from quart.typing import TestClientProtocol as Client

from stgy.devservices import free_port
from stgy.services import Services
from tests.integration.fetch_peer import Peer, fed_client, fed_config, fed_services, peer
from tests.integration.test_outbox import drain


async def remote_rows(services: Services, domain: str) -> int:
    async with services.pool.acquire() as conn:
        n: int = await conn.fetchval("SELECT count(*) FROM accounts WHERE domain = $1", domain)
    return n


async def test_acct_lookup_fetches_and_stores_the_actor(
    fed_client: Client, fed_services: Services, peer: Peer
) -> None:
    actor_id = peer.add_actor("bob", name="Bob Remote")
    response = await fed_client.get(f"/api/accounts/@bob@{peer.host}")
    assert response.status_code == 200, await response.get_data(as_text=True)
    body = await response.get_json()
    assert body["acct"] == f"bob@{peer.host}" and body["local"] is False
    assert body["ap_id"] == actor_id and body["url"] == f"{peer.base}/@bob"
    assert body["display_name"] == "Bob Remote" and body["domain"] == peer.host
    # WebFinger, then the actor, signed (the peer refuses unsigned GETs).
    assert peer.requests[0].startswith("/.well-known/webfinger?resource=acct")
    assert "/users/bob" in peer.requests and peer.refused == []
    assert await remote_rows(fed_services, peer.host) == 1
    # The same account by id answers from the database.
    by_id = await fed_client.get(f"/api/accounts/{body['id']}")
    assert (await by_id.get_json())["acct"] == f"bob@{peer.host}"


async def test_a_fresh_account_is_not_fetched_again(
    fed_client: Client, fed_services: Services, peer: Peer
) -> None:
    peer.add_actor("carol")
    first = await fed_client.get(f"/api/accounts/@carol@{peer.host}")
    assert first.status_code == 200
    asked = len(peer.requests)
    again = await fed_client.get(f"/api/accounts/@Carol@{peer.host.upper()}")
    assert again.status_code == 200
    assert (await again.get_json())["id"] == (await first.get_json())["id"]
    searched = await fed_client.get(f"/api/search?q=@carol@{peer.host}&type=accounts")
    assert [a["id"] for a in (await searched.get_json())["accounts"]] == [
        (await first.get_json())["id"]
    ]
    assert len(peer.requests) == asked
    assert await remote_rows(fed_services, peer.host) == 1


async def test_a_stale_account_is_answered_and_refreshed_in_a_job(
    fed_client: Client, fed_services: Services, peer: Peer
) -> None:
    peer.add_actor("dora", name="Old Name")
    account = await (await fed_client.get(f"/api/accounts/@dora@{peer.host}")).get_json()
    await drain(fed_services)
    async with fed_services.pool.acquire() as conn:
        await conn.execute(
            "UPDATE accounts SET fetched_at = $2 WHERE id = $1",
            int(account["id"]),
            datetime.now(UTC) - timedelta(days=2),
        )
    peer.actors["dora"]["name"] = "New Name"
    stale = await fed_client.get(f"/api/accounts/@dora@{peer.host}")
    assert (await stale.get_json())["display_name"] == "Old Name"
    await drain(fed_services)
    fresh = await fed_client.get(f"/api/accounts/{account['id']}")
    assert (await fresh.get_json())["display_name"] == "New Name"
    assert await remote_rows(fed_services, peer.host) == 1


async def test_search_resolves_acct_and_actor_url(
    fed_client: Client, fed_services: Services, peer: Peer
) -> None:
    peer.add_actor("erin")
    frank_id = peer.add_actor("frank")
    by_acct = await fed_client.get(f"/api/search?q=erin@{peer.host}&type=accounts")
    assert [a["acct"] for a in (await by_acct.get_json())["accounts"]] == [f"erin@{peer.host}"]
    by_url = await fed_client.get("/api/search", query_string={"q": frank_id})
    found = (await by_url.get_json())["accounts"]
    assert [a["ap_id"] for a in found] == [frank_id]
    assert "/.well-known/webfinger" not in "".join(p for p in peer.requests if "frank" in p)
    assert await remote_rows(fed_services, peer.host) == 2


async def test_unknown_and_unreachable_accounts_are_404_and_store_nothing(
    fed_client: Client, fed_services: Services, peer: Peer
) -> None:
    response = await fed_client.get(f"/api/accounts/@nobody@{peer.host}")
    assert response.status_code == 404
    body = await response.get_json()
    assert body["error"] == "not_found" and "nobody@" in body["detail"]
    searched = await fed_client.get(f"/api/search?q=@nobody@{peer.host}")
    assert (await searched.get_json())["accounts"] == []
    down = f"127.0.0.1:{free_port()}"
    unreachable = await fed_client.get(f"/api/accounts/@someone@{down}")
    assert unreachable.status_code == 404
    assert "could not be looked up" in (await unreachable.get_json())["detail"]
    assert await remote_rows(fed_services, peer.host) == 0
    assert await remote_rows(fed_services, down) == 0


async def test_malformed_accts_are_400(fed_client: Client) -> None:
    for acct in ("@x@", "@@example.com", "@a@b@c.example", "@x@exa_mple!"):
        response = await fed_client.get(f"/api/accounts/{acct}")
        assert response.status_code == 400, acct
        body = await response.get_json()
        assert body["error"] == "invalid" and body["detail"]["field"] == "acct"
    searched = await fed_client.get("/api/search?q=@x@&type=accounts")
    assert searched.status_code == 200 and (await searched.get_json())["accounts"] == []


async def test_lookup_through_the_guard_refuses_loopback(
    client: Client, services: Services, fed_services: Services, peer: Peer
) -> None:
    # `client` is an instance with the SSRF guard on: the peer answers on loopback, so
    # only the guard stands between the lookup and it.
    peer.add_actor("mallory")
    before = await remote_rows(services, peer.host)
    for acct in ("@x@127.0.0.1", f"@mallory@{peer.host}"):
        response = await client.get(f"/api/accounts/{acct}")
        assert response.status_code == 404, acct
        assert "unsafe target" in (await response.get_json())["detail"]
    searched = await client.get(f"/api/search?q={peer.actor_id('mallory')}&type=accounts")
    assert (await searched.get_json())["accounts"] == []
    assert peer.requests == []
    assert await remote_rows(services, peer.host) == before == 0
    assert await remote_rows(services, "127.0.0.1") == 0
