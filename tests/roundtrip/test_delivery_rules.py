"""Who gets what between two live instances: one delivery per shared inbox, nothing after
an unfollow or a block, a receiver that was down gets the post once it is back."""

from __future__ import annotations

import re

from tests.roundtrip.conftest import Peer, eventually, following, local_copy


def fan_outs(peer: Peer, activity_id: str) -> list[int]:
    """The inbox counts the sender logged for an activity's fan-out."""
    pattern = rf"delivery_fan_out activity={re.escape(activity_id)} inboxes=(\d+)"
    return [int(n) for n in re.findall(pattern, peer.log_text())]


async def test_many_followers_on_one_instance_get_one_delivery(pair: tuple[Peer, Peer]) -> None:
    a, b = pair
    bob = await b.register("bob")
    followers = [await a.register("fan") for _ in range(5)]
    for fan in followers:
        await following(fan, bob)
    post = await bob.post("one delivery for five followers")
    activity_id = post["ap_id"] + "/activity"
    copy_id = await eventually(lambda: local_copy(a, post["ap_id"]))
    # Log lines are written in batches, at most a second late.
    await eventually(lambda: _logged(b, post["ap_id"]))
    assert fan_outs(b, activity_id) == [1]
    assert await a.value("SELECT count(*) FROM inbox_activities WHERE ap_id = $1", activity_id) == 1
    # ... and the one delivery reaches every follower's home timeline there.
    owners = await a.value(
        "SELECT count(*) FROM timeline_entries WHERE post_id = $1 AND owner_id = ANY($2::bigint[])",
        copy_id,
        [int(f.id) for f in followers],
    )
    assert owners == 5


async def test_unfollow_and_block_stop_delivery(pair: tuple[Peer, Peer]) -> None:
    a, b = pair
    alice, bob = await a.register("alice"), await b.register("bob")
    bob_on_a = await following(alice, bob)
    assert (await alice.call("DELETE", f"/api/accounts/{bob_on_a}/follow")).status_code == 204

    async def unfollowed_on_b() -> bool:
        followers = await b.value(
            "SELECT count(*) FROM follows WHERE followee_id = $1", int(bob.id)
        )
        return bool(followers == 0)

    await eventually(unfollowed_on_b)
    after_unfollow = await bob.post("nobody over there follows me now")
    await eventually(lambda: _logged(b, after_unfollow["ap_id"]))
    assert fan_outs(b, after_unfollow["ap_id"] + "/activity") == [0]

    # Follow again, then bob blocks alice: the Block removes the follow on a too.
    await following(alice, bob)
    alice_on_b = await b.resolve(alice)
    assert (await bob.call("PUT", f"/api/accounts/{alice_on_b}/block")).status_code == 204

    async def follow_gone_on_a() -> bool:
        left = await a.value("SELECT count(*) FROM follows WHERE follower_id = $1", int(alice.id))
        return bool(left == 0)

    await eventually(follow_gone_on_a)
    assert (
        await a.value(
            "SELECT count(*) FROM blocks WHERE account_id = $1 AND target_id = $2",
            int(bob_on_a),
            int(alice.id),
        )
        == 1
    )
    after_block = await bob.post("not for alice")
    await eventually(lambda: _logged(b, after_block["ap_id"]))
    assert fan_outs(b, after_block["ap_id"] + "/activity") == [0]
    assert await local_copy(a, after_block["ap_id"]) is None

    # Unblocking is told as well.
    assert (await bob.call("DELETE", f"/api/accounts/{alice_on_b}/block")).status_code == 204

    async def unblocked_on_a() -> bool:
        left = await a.value("SELECT count(*) FROM blocks WHERE account_id = $1", int(bob_on_a))
        return bool(left == 0)

    await eventually(unblocked_on_a)


async def _logged(peer: Peer, post_ap_id: str) -> bool:
    return bool(fan_outs(peer, post_ap_id + "/activity"))


async def test_receiver_down_gets_the_post_when_it_is_back(pair: tuple[Peer, Peer]) -> None:
    a, b = pair
    alice, bob = await a.register("alice"), await b.register("bob")
    await following(bob, alice)
    b.stop_server()
    try:
        post = await alice.post("are you there?")

        async def failed_once() -> bool:
            return "delivery" in a.log_text() and bool(
                re.search(
                    rf"delivery activity={re.escape(post['ap_id'])}/activity .* outcome=retry",
                    a.log_text(),
                )
            )

        await eventually(failed_once)
        assert (
            await a.value(
                "SELECT failures FROM instances WHERE domain = $1", b.live.config.instance.domain
            )
            >= 1
        )
    finally:
        b.start_server()
    # The retry (a second later here, a minute by default) gets it there.
    await eventually(lambda: local_copy(b, post["ap_id"]), timeout=30)
    assert (
        await a.value(
            "SELECT failures FROM instances WHERE domain = $1", b.live.config.instance.domain
        )
        == 0
    )
