"""Outbox backfill: looking up or following a remote account stores its newest posts
(bounded, public and unlisted only, idempotent), in order, and they reach a local
follower's home timeline whichever finishes first, the backfill or the accept."""

from __future__ import annotations

from quart.typing import TestClientProtocol as Client

from stgy.domain import follows
from stgy.domain.remote import backfill, resolve
from stgy.services import Services
from tests.conftest import make_user
from tests.integration.fetch_peer import Peer, fed_client, fed_config, fed_services, peer
from tests.integration.test_outbox import drain


async def post_count(services: Services, account_id: int) -> int:
    async with services.pool.acquire() as conn:
        n: int = await conn.fetchval("SELECT count(*) FROM posts WHERE account_id = $1", account_id)
    return n


async def texts(client: Client, path: str, **headers: str) -> list[str]:
    response = await client.get(path, headers=headers)
    if response.status_code == 204:  # an empty home timeline
        return []
    assert response.status_code == 200, await response.get_data(as_text=True)
    return [p["html"] for p in (await response.get_json())["posts"]]


async def test_lookup_backfills_the_newest_twenty_posts_in_order(
    fed_client: Client, fed_services: Services, peer: Peer
) -> None:
    peer.add_actor("bob")
    for i in range(25):
        peer.add_note("bob", f"post {i}")
    shared = peer.add_note("bob", "shared later", in_outbox=False)
    peer.add_announce("bob", shared)  # the newest item: a share, skipped
    account = await (await fed_client.get(f"/api/accounts/@bob@{peer.host}")).get_json()
    await drain(fed_services)
    shown = await texts(fed_client, f"/api/accounts/{account['id']}/posts?limit=40")
    assert shown == [f"<p>post {i}</p>" for i in range(24, 4, -1)]
    assert await post_count(fed_services, int(account["id"])) == 20
    assert peer.refused == []
    # Pages were followed (ten items each), and no Note was fetched one by one.
    assert peer.count("/outbox?page=true") == 3 and peer.count("/statuses/") == 0
    again = await fed_client.get(f"/api/accounts/{account['id']}")
    assert (await again.get_json())["posts_count"] == 20


async def test_backfill_is_idempotent_and_keeps_only_public_and_unlisted(
    fed_client: Client, fed_services: Services, peer: Peer
) -> None:
    peer.add_actor("carol")
    peer.add_note("carol", "for everyone")
    peer.add_note("carol", "quietly public", visibility="unlisted")
    peer.add_note("carol", "followers only", visibility="followers")
    account = await (await fed_client.get(f"/api/accounts/@carol@{peer.host}")).get_json()
    await drain(fed_services)
    account_id = int(account["id"])
    assert await post_count(fed_services, account_id) == 2
    assert await backfill.backfill_outbox(fed_services, account_id) == 0
    assert await post_count(fed_services, account_id) == 2
    async with fed_services.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT visibility, local FROM posts WHERE account_id = $1 ORDER BY id", account_id
        )
    assert [(r["visibility"], r["local"]) for r in rows] == [
        ("public", False),
        ("unlisted", False),
    ]


async def _remote_without_backfill(services: Services, peer: Peer, handle: str) -> int:
    account = await resolve.fetch_actor_account(
        services, peer.actor_id(handle), client=None, backfill=False
    )
    assert await post_count(services, account.id) == 0
    return account.id


async def test_follow_backfills_then_accept_fills_the_home_timeline(
    fed_client: Client, fed_services: Services, peer: Peer
) -> None:
    peer.add_actor("dora")
    for i in range(3):
        peer.add_note("dora", f"dora {i}")
    remote_id = await _remote_without_backfill(fed_services, peer, "dora")
    me = await make_user(fed_client)
    followed = await fed_client.put(f"/api/accounts/{remote_id}/follow", headers=me.auth)
    assert followed.status_code == 202  # pending until the remote server accepts
    await drain(fed_services)  # follow.requested -> the backfill job
    assert await post_count(fed_services, remote_id) == 3
    assert await texts(fed_client, "/api/timelines/home", **me.auth) == []
    await follows.accept_request(fed_services, remote_id, int(me.id))  # what an Accept does
    await drain(fed_services)
    home = await texts(fed_client, "/api/timelines/home", **me.auth)
    assert home == ["<p>dora 2</p>", "<p>dora 1</p>", "<p>dora 0</p>"]


async def test_accept_before_backfill_still_fills_the_home_timeline(
    fed_client: Client, fed_services: Services, peer: Peer
) -> None:
    peer.add_actor("erin")
    for i in range(2):
        peer.add_note("erin", f"erin {i}")
    remote_id = await _remote_without_backfill(fed_services, peer, "erin")
    me = await make_user(fed_client)
    await fed_client.put(f"/api/accounts/{remote_id}/follow", headers=me.auth)
    await follows.accept_request(fed_services, remote_id, int(me.id))
    await drain(fed_services)  # the accept's own backfill found nothing; the fetch did
    home = await texts(fed_client, "/api/timelines/home", **me.auth)
    assert home == ["<p>erin 1</p>", "<p>erin 0</p>"]
    assert await post_count(fed_services, remote_id) == 2
