"""Round trips between two live instances: follow and accept, posts, replies, likes,
shares, edits, deletes and profile changes, each arriving on the other side."""

from __future__ import annotations

from typing import Any

from tests.roundtrip.conftest import Peer, Person, eventually, following, home_posts, local_copy


async def notifications(person: Person, kind: str) -> list[dict[str, Any]]:
    response = await person.call("GET", "/api/notifications", params={"types": kind})
    if response.status_code == 204:
        return []
    assert response.status_code == 200, response.text
    body = response.json()
    items: list[dict[str, Any]] = body["notifications"] if isinstance(body, dict) else body
    return items


async def test_follow_is_accepted_and_posts_arrive_in_the_home_timeline(
    pair: tuple[Peer, Peer],
) -> None:
    a, b = pair
    alice, bob = await a.register("alice"), await b.register("bob")
    bob_on_a = await following(alice, bob)
    # Both sides agree on the follow.
    assert (
        await b.value(
            "SELECT count(*) FROM follows f JOIN accounts x ON x.id = f.follower_id"
            " WHERE x.ap_id = $1 AND f.followee_id = $2 AND f.state = 'accepted'",
            alice.actor_url,
            int(bob.id),
        )
        == 1
    )
    follow_notes = await eventually(lambda: notifications(bob, "follow"))
    assert follow_notes[0]["account"]["acct"].startswith("alice")

    post = await bob.post("Hello from **b**, #fediverse")

    async def arrived() -> list[dict[str, Any]]:
        return [p for p in await home_posts(alice) if p["ap_id"] == post["ap_id"]]

    (seen,) = await eventually(arrived)
    assert "<strong>b</strong>" in seen["html"]
    assert seen["account"]["id"] == bob_on_a
    assert seen["account"]["local"] is False
    # Followers-only posts reach followers too; direct posts not mentioning them do not.
    private = await bob.post("for followers", visibility="followers")
    await eventually(lambda: local_copy(a, private["ap_id"]))
    direct = await bob.post("a note to myself", visibility="direct")
    local_only = await bob.post("stays home", visibility="local")
    await eventually(lambda: _fanned_out(b, direct["ap_id"], local_only["ap_id"]))
    assert await local_copy(a, direct["ap_id"]) is None
    assert await local_copy(a, local_only["ap_id"]) is None


async def _fanned_out(peer: Peer, *ap_ids: str) -> bool:
    done = await peer.value(
        "SELECT count(*) FROM outbox_events e"
        " JOIN posts p ON p.id = (e.payload->>'post_id')::bigint"
        " WHERE e.kind = 'post.created' AND e.done_at IS NOT NULL AND p.ap_id = ANY($1::text[])",
        list(ap_ids),
    )
    return bool(done == len(ap_ids))


async def test_reply_like_and_share_arrive_and_notify(pair: tuple[Peer, Peer]) -> None:
    a, b = pair
    alice, bob = await a.register("alice"), await b.register("bob")
    await following(alice, bob)
    post = await bob.post("Reply to me")
    copy_id = await eventually(lambda: local_copy(a, post["ap_id"]))

    # A reply that does not mention bob: nobody on b follows alice, it is taken as a reply.
    reply = await alice.post("here I am", reply_to=str(copy_id))
    assert (await alice.call("PUT", f"/api/posts/{copy_id}/like")).status_code in (200, 204)
    assert (await alice.call("PUT", f"/api/posts/{copy_id}/share")).status_code in (200, 204)

    async def counted() -> dict[str, Any] | None:
        view = (await bob.call("GET", f"/api/posts/{post['id']}")).json()
        the_post = view.get("post", view)
        ok = (the_post["replies_count"], the_post["likes_count"], the_post["shares_count"])
        return the_post if ok == (1, 1, 1) else None

    await eventually(counted)
    for kind in ("reply", "like", "share"):
        found = await eventually(lambda kind=kind: notifications(bob, kind))
        assert found[0]["account"]["acct"].startswith(alice.handle), kind
    stored_reply = await b.value(
        "SELECT in_reply_to_id FROM posts WHERE ap_id = $1", reply["ap_id"]
    )
    assert str(stored_reply) == post["id"]

    # Taking the like and the share back is told too.
    assert (await alice.call("DELETE", f"/api/posts/{copy_id}/like")).is_success
    assert (await alice.call("DELETE", f"/api/posts/{copy_id}/share")).is_success

    async def uncounted() -> bool:
        view = (await bob.call("GET", f"/api/posts/{post['id']}")).json()
        the_post = view.get("post", view)
        return bool((the_post["likes_count"], the_post["shares_count"]) == (0, 0))

    await eventually(uncounted)


async def test_edits_deletes_and_profile_changes_propagate(pair: tuple[Peer, Peer]) -> None:
    a, b = pair
    alice, bob = await a.register("alice"), await b.register("bob")
    bob_on_a = await following(alice, bob)
    post = await bob.post("first version")
    copy_id = await eventually(lambda: local_copy(a, post["ap_id"]))

    edited = await bob.call("PATCH", f"/api/posts/{post['id']}", json={"text": "second version"})
    assert edited.status_code == 200, edited.text

    async def edited_on_a() -> bool:
        html = await a.value("SELECT html FROM posts WHERE id = $1", copy_id)
        return "second version" in html

    await eventually(edited_on_a)
    assert await a.value("SELECT count(*) FROM post_edits WHERE post_id = $1", copy_id) == 1

    changed = await bob.call("PATCH", "/api/accounts/me", json={"display_name": "Robert B."})
    assert changed.status_code == 200

    async def renamed() -> bool:
        account = (await alice.call("GET", f"/api/accounts/{bob_on_a}")).json()
        return bool(account["display_name"] == "Robert B.")

    await eventually(renamed)

    assert (await bob.call("DELETE", f"/api/posts/{post['id']}")).status_code == 200

    async def gone() -> bool:
        return (await alice.call("GET", f"/api/posts/{copy_id}")).status_code == 404

    await eventually(gone)
    assert all(p["ap_id"] != post["ap_id"] for p in await home_posts(alice))
