"""A Mastodon-shaped peer against a live stgy: its signed POSTs are taken and applied, and
what stgy POSTs back verifies with checks that are not stgy's own."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx

from federation.fetch import parse_actor
from federation.webfinger import parse_jrd
from storage import follows as follows_sql
from tests.conftest import LiveInstance
from tests.interop.conftest import fetch_value, register
from tests.interop.mastodon_peer import MastodonPeer, fixture


def test_the_fixtures_parse_as_our_reader_expects() -> None:
    base = "http://127.0.0.1:9"
    actor = fixture("actor.json", base, "zoe")
    actor["publicKey"]["publicKeyPem"] = "PEM"
    parsed = parse_actor(actor)
    assert parsed.id == f"{base}/users/zoe" and parsed.preferred_username == "zoe"
    assert parsed.public_key_id == f"{base}/users/zoe#main-key"
    assert parsed.shared_inbox == f"{base}/inbox"
    assert parsed.featured == f"{base}/users/zoe/collections/featured"
    assert parsed.icon_url == f"{base}/system/accounts/avatars/zoe.png"
    assert parsed.discoverable is True and parsed.manually_approves_followers is False
    assert parse_jrd(fixture("webfinger.json", base, "zoe")).actor_url == f"{base}/users/zoe"


async def test_follow_from_mastodon_is_accepted_and_the_accept_verifies(
    interop_instance: LiveInstance, peer: MastodonPeer
) -> None:
    user = await register(interop_instance)
    follower = peer.add_account("ada")
    follow = peer.follow("ada", user.actor_id)
    answer = await peer.post(f"{user.actor_id}/inbox", follow, "ada")
    assert answer.status_code == 202 and answer.content == b""
    stored = await fetch_value(
        interop_instance, "SELECT type FROM inbox_activities WHERE ap_id = $1", follow["id"]
    )
    assert stored == "Follow"

    accept = await peer.wait_for(lambda r: r.activity.get("type") == "Accept")
    assert accept.path == "/users/ada/inbox"
    assert accept.error is None and accept.status == 202
    assert accept.scheme == "cavage" and accept.key_id == f"{user.actor_id}#main-key"
    assert accept.activity["actor"] == user.actor_id
    assert accept.activity["object"] == follow["id"]
    state = await fetch_value(
        interop_instance,
        "SELECT f.state FROM follows f JOIN accounts a ON a.id = f.follower_id WHERE a.ap_id = $1",
        follower,
    )
    assert state == "accepted"


async def test_a_peer_that_wants_rfc9421_gets_it_after_a_double_knock(
    interop_instance: LiveInstance, peer: MastodonPeer
) -> None:
    peer.accepted_schemes = {"rfc9421"}
    user = await register(interop_instance)
    peer.add_account("bea")
    follow = peer.follow("bea", user.actor_id)
    assert (await peer.post(f"{interop_instance.url}/inbox", follow, "bea")).status_code == 202

    accepted = await peer.wait_for(lambda r: r.status == 202)
    refused = [r for r in peer.received if r.status == 401]
    assert [r.scheme for r in refused] == ["cavage"]  # verified, but not what this peer takes
    assert accepted.scheme == "rfc9421" and accepted.key_id == f"{user.actor_id}#main-key"
    assert "content-digest" in {name.lower() for name in accepted.headers}
    assert accepted.activity["type"] == "Accept"

    async def remembered() -> str | None:
        scheme: str | None = await fetch_value(
            interop_instance,
            "SELECT signature_scheme FROM instances WHERE domain = $1",
            peer.host,
        )
        return scheme

    for _ in range(100):
        if await remembered() == "rfc9421":
            break
        await asyncio.sleep(0.05)
    assert await remembered() == "rfc9421"


async def test_a_note_from_a_followed_mastodon_account_reaches_the_home_timeline(
    interop_instance: LiveInstance, peer: MastodonPeer
) -> None:
    user = await register(interop_instance)
    author = peer.add_account("cy")
    # The peer introduces its account (we store it when we fetch its key)...
    follow = peer.follow("cy", user.actor_id)
    assert (await peer.post(f"{user.actor_id}/inbox", follow, "cy")).status_code == 202
    await peer.wait_for(lambda r: r.activity.get("type") == "Accept")
    # ...and our user follows it back (following remote accounts through the API is not ours).
    conn = await asyncpg.connect(interop_instance.database_url)
    try:
        remote_id = await conn.fetchval("SELECT id FROM accounts WHERE ap_id = $1", author)
        await follows_sql.insert_follow(
            conn, follower_id=int(user.id), followee_id=remote_id, state="accepted"
        )
    finally:
        await conn.close()

    create = peer.create_note("cy")
    assert (await peer.post(f"{interop_instance.url}/inbox", create, "cy")).status_code == 202

    async with httpx.AsyncClient(base_url=interop_instance.url, headers=user.auth) as client:
        for _ in range(200):
            home = await client.get("/api/timelines/home")
            posts = home.json()["posts"] if home.status_code == 200 else []
            if any(p["ap_id"] == create["object"]["id"] for p in posts):
                break
            await asyncio.sleep(0.05)
    [post] = [p for p in posts if p["ap_id"] == create["object"]["id"]]
    assert post["account"]["acct"] == f"cy@{peer.host}"
    assert post["visibility"] == "public" and post["language"] == "en"
    assert post["html"].startswith("<p>Hello from Mastodon, with a <a href=")


async def test_a_post_signed_with_another_key_is_refused_and_not_stored(
    interop_instance: LiveInstance, peer: MastodonPeer
) -> None:
    user = await register(interop_instance)
    peer.add_account("dan")
    peer.add_account("eve")
    follow = peer.follow("dan", user.actor_id)
    peer.private_keys["dan"] = peer.private_keys["eve"]  # dan's key id, eve's key
    answer = await peer.post(f"{user.actor_id}/inbox", follow, "dan")
    assert answer.status_code == 401
    assert answer.json()["error"] and answer.json()["detail"]
    stored = await fetch_value(
        interop_instance, "SELECT count(*) FROM inbox_activities WHERE ap_id = $1", follow["id"]
    )
    assert stored == 0
