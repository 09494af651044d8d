"""`GET /api/posts/{id}/context`: from the database, and for a remote post a job that
fetches the missing ancestors (at most 20 up) and replies (at most 100 looked at, pages
and replies of replies followed) from the Mastodon-shaped peer; a second call shows them."""

from __future__ import annotations

from typing import Any

from quart.typing import TestClientProtocol as Client

from stgy.domain.remote import context_fetch
from stgy.jobs import FETCH_CONTEXT, fetch_job_key
from stgy.services import Services
from tests.conftest import make_user
from tests.integration.fetch_peer import Peer, fed_client, fed_config, fed_services, peer
from tests.integration.test_outbox import drain


async def remote_post(client: Client, services: Services, peer: Peer, handle: str) -> str:
    """Look the account up (its outbox holds one post) and give that post's id."""
    account = await (await client.get(f"/api/accounts/@{handle}@{peer.host}")).get_json()
    await drain(services)
    posts = (await (await client.get(f"/api/accounts/{account['id']}/posts")).get_json())["posts"]
    assert len(posts) == 1
    return str(posts[0]["id"])


async def context(client: Client, post_id: str, **headers: str) -> dict[str, Any]:
    response = await client.get(f"/api/posts/{post_id}/context", headers=headers)
    assert response.status_code == 200, await response.get_data(as_text=True)
    found: dict[str, Any] = await response.get_json()
    return found


async def posts_on(services: Services, host: str) -> int:
    async with services.pool.acquire() as conn:
        n: int = await conn.fetchval(
            "SELECT count(*) FROM posts p JOIN accounts a ON a.id = p.account_id"
            " WHERE a.domain = $1",
            host,
        )
    return n


async def test_missing_ancestors_are_fetched_up_to_twenty(
    fed_client: Client, fed_services: Services, peer: Peer
) -> None:
    peer.add_actor("bob")
    peer.add_actor("carol")
    parent = None
    for i in range(25):
        parent = peer.add_note("bob" if i % 2 else "carol", f"level {i}", in_reply_to=parent)
    peer.outboxes["bob"] = []
    peer.add_note("bob", "the leaf", in_reply_to=parent)
    leaf = await remote_post(fed_client, fed_services, peer, "bob")
    first = await context(fed_client, leaf)
    assert first == {"ancestors": [], "descendants": []}
    assert await fed_services.jobs.saq.job(fetch_job_key(FETCH_CONTEXT, int(leaf))) is not None
    await drain(fed_services)
    second = await context(fed_client, leaf)
    assert [p["html"] for p in second["ancestors"]] == [f"<p>level {i}</p>" for i in range(5, 25)]
    assert second["ancestors"][0]["account"]["acct"] == f"bob@{peer.host}"
    assert {p["account"]["acct"] for p in second["ancestors"]} == {
        f"bob@{peer.host}",
        f"carol@{peer.host}",
    }
    assert await posts_on(fed_services, peer.host) == 21
    assert peer.refused == []
    # Run again: everything is stored; only the parent beyond the bound is left unfetched.
    assert (await context_fetch.fetch_context(fed_services, int(leaf)))[0] == 0
    assert await posts_on(fed_services, peer.host) == 21


async def test_replies_are_fetched_through_pages_up_to_a_hundred(
    fed_client: Client, fed_services: Services, peer: Peer
) -> None:
    peer.add_actor("dora")
    peer.add_actor("erin")
    root = peer.add_note("dora", "the root")
    for i in range(120):
        peer.add_note("erin", f"reply {i}", in_reply_to=root, in_outbox=False)
    root_id = await remote_post(fed_client, fed_services, peer, "dora")
    assert (await context(fed_client, root_id))["descendants"] == []
    await drain(fed_services)
    found = (await context(fed_client, root_id))["descendants"]
    assert [p["html"] for p in found] == [f"<p>reply {i}</p>" for i in range(100)]
    assert all(p["in_reply_to_id"] == root_id for p in found)
    assert await posts_on(fed_services, peer.host) == 101
    root_view = await (await fed_client.get(f"/api/posts/{root_id}")).get_json()
    assert root_view["post"]["replies_count"] == 100
    assert (await context_fetch.fetch_context(fed_services, int(root_id)))[1] == 0
    assert await posts_on(fed_services, peer.host) == 101


async def test_replies_of_replies_come_depth_first(
    fed_client: Client, fed_services: Services, peer: Peer
) -> None:
    peer.add_actor("frank")
    root = peer.add_note("frank", "root")
    first = peer.add_note("frank", "first", in_reply_to=root, in_outbox=False)
    peer.add_note("frank", "second", in_reply_to=root, in_outbox=False)
    peer.add_note("frank", "under first", in_reply_to=first, in_outbox=False)
    root_id = await remote_post(fed_client, fed_services, peer, "frank")
    await context(fed_client, root_id)
    await drain(fed_services)
    found = (await context(fed_client, root_id))["descendants"]
    assert [p["html"] for p in found] == ["<p>first</p>", "<p>under first</p>", "<p>second</p>"]
    under = await context(fed_client, found[1]["id"])
    assert [p["html"] for p in under["ancestors"]] == ["<p>root</p>", "<p>first</p>"]


async def test_a_local_thread_is_read_from_the_database_only(
    fed_client: Client, fed_services: Services
) -> None:
    alice = await make_user(fed_client)
    root = await fed_client.post("/api/posts", json={"text": "root"}, headers=alice.auth)
    root_id = (await root.get_json())["id"]
    reply = await fed_client.post(
        "/api/posts", json={"text": "reply", "reply_to": root_id}, headers=alice.auth
    )
    reply_id = (await reply.get_json())["id"]
    assert [p["id"] for p in (await context(fed_client, root_id))["descendants"]] == [reply_id]
    assert [p["id"] for p in (await context(fed_client, reply_id))["ancestors"]] == [root_id]
    for post_id in (root_id, reply_id):
        key = fetch_job_key(FETCH_CONTEXT, int(post_id))
        assert await fed_services.jobs.saq.job(key) is None
    missing = await fed_client.get("/api/posts/1/context")
    assert missing.status_code == 404 and (await missing.get_json())["error"] == "not_found"
