"""Account actions between two live instances (issue 17A): a remote account suspended on
one is refused there, its posts are gone from its timelines and follows end both ways; a
suspended local account's actor answers 410 and its Delete reaches the other instance
after the grace period (1 s here), unless the suspension was lifted before."""

from __future__ import annotations

from typing import Any

import orjson

from federation import signatures
from stgy.domain import account_actions, roles
from tests.roundtrip.conftest import Peer, Person, eventually, following, home_posts, local_copy


async def signed_post(sender: Person, to: Peer, activity: dict[str, Any]) -> tuple[int, Any]:
    """POST an activity to `to`'s shared inbox signed with the sender's own key (read
    from its instance's database): what its server would send."""
    key = await sender.instance.value(
        "SELECT private_key_pem FROM users WHERE account_id = $1", int(sender.id)
    )
    body = orjson.dumps(activity)
    url = f"{to.base_url}/inbox"
    headers = {"Content-Type": "application/activity+json"}
    headers |= signatures.sign_request(
        "POST", url, headers, body, f"{sender.actor_url}#main-key", key
    )
    response = await to.http.post("/inbox", content=body, headers=headers)
    return response.status_code, response.json() if response.content else None


async def follow_count(peer: Peer, one: str, other: str) -> int:
    count: int = await peer.value(
        "SELECT count(*) FROM follows WHERE (follower_id = $1 AND followee_id = $2)"
        " OR (follower_id = $2 AND followee_id = $1)",
        int(one),
        int(other),
    )
    return count


async def test_a_suspended_remote_account_is_refused_and_gone(pair: tuple[Peer, Peer]) -> None:
    a, b = pair
    alice, bob = await a.register("alice"), await b.register("bob")
    bob_on_a = await following(alice, bob)
    alice_on_b = await following(bob, alice)
    post = await bob.post("before the suspension")
    await eventually(lambda: local_copy(a, post["ap_id"]))

    async def at_home() -> bool:
        return any(p.get("ap_id") == post["ap_id"] for p in await home_posts(alice))

    await eventually(at_home)

    after = await account_actions.act(
        a.services, roles.CLI, int(bob_on_a), "suspend", comment="abuse"
    )
    assert after.state == "suspended"
    # Gone from our timelines at once, and every follow between them ended here...
    assert not await at_home()
    public = await alice.call("GET", "/api/timelines/public?limit=100")
    if public.status_code == 200:
        assert post["ap_id"] not in [p.get("ap_id") for p in public.json()["posts"]]
    assert await follow_count(a, alice.id, bob_on_a) == 0
    # ... and over there: alice's Undo and the Reject of bob's follow arrived.
    await eventually(lambda: _no_follows(b, bob.id, alice_on_b))

    # What bob's server sends now is refused.
    note_id = f"{bob.actor_url}/posts/refused-{alice.id}"
    status, error = await signed_post(
        bob,
        a,
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": note_id + "/activity",
            "type": "Create",
            "actor": bob.actor_url,
            "to": [alice.actor_url],
            "object": {
                "id": note_id,
                "type": "Note",
                "attributedTo": bob.actor_url,
                "to": [alice.actor_url],
                "content": "<p>still here</p>",
            },
        },
    )
    assert status == 403 and error["detail"] == "this account is suspended", error
    assert await local_copy(a, note_id) is None
    actions = await a.value(
        "SELECT array_agg(action ORDER BY id) FROM audit_log WHERE target = $1", str(bob_on_a)
    )
    assert actions == ["account.suspend"]

    # Lifted: heard again (a signed activity is taken in).
    await account_actions.act(a.services, roles.CLI, int(bob_on_a), "unsuspend")
    status, _ = await signed_post(
        bob,
        a,
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{bob.actor_url}#likes/{alice.id}",
            "type": "Like",
            "actor": bob.actor_url,
            "object": f"{alice.actor_url}/posts/1",
        },
    )
    assert status == 202


async def _no_follows(peer: Peer, one: str, other: str) -> bool:
    return await follow_count(peer, one, other) == 0


async def test_a_suspended_local_account_answers_410_and_its_delete_goes_out(
    pair: tuple[Peer, Peer],
) -> None:
    a, b = pair
    carol, erin, dave = (
        await a.register("carol"),
        await a.register("erin"),
        await b.register("dave"),
    )
    carol_on_b = await following(dave, carol)
    erin_on_b = await following(dave, erin)

    # erin's suspension is lifted within the grace period: nothing goes out for her.
    await account_actions.act(a.services, roles.CLI, int(erin.id), "suspend")
    await account_actions.act(a.services, roles.CLI, int(erin.id), "unsuspend")
    await account_actions.act(a.services, roles.CLI, int(carol.id), "suspend", comment="spam")

    actor = await a.http.get(
        f"/users/{carol.handle}", headers={"Accept": "application/activity+json"}
    )
    assert actor.status_code == 410 and actor.json()["type"] == "Tombstone"
    login = await a.http.get("/api/accounts/me", headers=carol.auth)
    assert login.status_code == 401

    async def deleted_on_b() -> bool:
        gone = await b.value("SELECT deleted_at FROM accounts WHERE id = $1", int(carol_on_b))
        return gone is not None

    await eventually(deleted_on_b, timeout=60)
    assert await a.value(
        "SELECT suspension_announced_at IS NOT NULL FROM accounts WHERE id = $1", int(carol.id)
    )
    # erin's job came due before carol's, and found her no longer suspended.
    assert await a.value(
        "SELECT suspension_announced_at IS NULL FROM accounts WHERE id = $1", int(erin.id)
    )
    assert await b.value("SELECT deleted_at FROM accounts WHERE id = $1", int(erin_on_b)) is None
    erin_actor = await a.http.get(
        f"/users/{erin.handle}", headers={"Accept": "application/activity+json"}
    )
    assert erin_actor.status_code == 200
    actions = await a.value(
        "SELECT array_agg(action ORDER BY id) FROM audit_log WHERE target = $1", carol.id
    )
    assert actions == ["account.suspend"]
