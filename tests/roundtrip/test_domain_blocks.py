"""Domain blocks between two live instances (issue 17): an admin of `x` blocks `y`'s
domain through x's API. A silenced domain's posts reach their followers but leave the
public timeline; a suspended one's follows are cut both ways and its activities refused;
reject_reports drops its Flags. A pair of its own, as suspensions would disturb the
shared pair's other tests."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from federation import signatures
from tests.roundtrip.conftest import (
    Peer,
    Person,
    _close,
    _peer,
    eventually,
    following,
    home_posts,
    local_copy,
)


@pytest.fixture(scope="module")
async def blocking_pair(tmp_root: Path) -> AsyncIterator[tuple[Peer, Peer]]:
    x = await _peer(tmp_root, "dbx")
    y = await _peer(tmp_root, "dby")
    try:
        yield x, y
    finally:
        await _close(x)
        await _close(y)


async def staff(peer: Peer, role: str) -> Person:
    person = await peer.register(role[:3])
    await peer.pool.execute(
        "UPDATE users SET role = $2 WHERE account_id = $1", int(person.id), role
    )
    return person


def host_of(peer: Peer) -> str:
    return peer.live.config.instance.host  # y.localhost, without the port: its whole domain


async def block(admin: Person, domain: str, **fields: Any) -> dict[str, Any]:
    answer = await admin.call("POST", "/api/admin/domain_blocks", json={"domain": domain, **fields})
    assert answer.status_code == 201, answer.text
    made: dict[str, Any] = answer.json()
    return made


async def unblock(admin: Person, made: dict[str, Any]) -> None:
    answer = await admin.call("DELETE", f"/api/admin/domain_blocks/{made['id']}")
    assert answer.status_code == 204, answer.text


async def public_ap_ids(peer: Peer) -> list[str]:
    answer = await peer.http.get("/api/timelines/public", params={"limit": 100})
    if answer.status_code == 204:
        return []
    return [p["ap_id"] for p in answer.json()["posts"]]


async def signed_post(sender: Person, to: Peer, activity: dict[str, Any]) -> httpx.Response:
    """POST `activity` to `to`'s shared inbox signed with `sender`'s own key (read from
    its instance's database): what `sender`'s server would send."""
    private_pem = await sender.instance.value(
        "SELECT private_key_pem FROM users WHERE account_id = $1", int(sender.id)
    )
    body = json.dumps(activity).encode()
    url = f"{to.base_url}/inbox"
    headers = {"Content-Type": "application/activity+json"}
    headers |= signatures.sign_request(
        "POST", url, headers, body, f"{sender.actor_url}#main-key", private_pem
    )
    return await to.http.post("/inbox", content=body, headers=headers)


def flag_of(sender: Person, target: Person) -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{sender.actor_url}/flags/{secrets.token_hex(6)}",
        "type": "Flag",
        "actor": sender.actor_url,
        "object": [target.actor_url],
        "content": "spam from over there",
    }


async def test_a_moderator_cannot_block_and_admins_leave_audit_rows(
    blocking_pair: tuple[Peer, Peer],
) -> None:
    x, y = blocking_pair
    moderator = await staff(x, "moderator")
    refused = await moderator.call(
        "POST", "/api/admin/domain_blocks", json={"domain": host_of(y), "severity": "silence"}
    )
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    assert await x.value("SELECT count(*) FROM domain_blocks") == 0
    assert await x.value("SELECT count(*) FROM audit_log") == 0


async def test_a_silenced_domain_reaches_followers_but_not_the_public_timeline(
    blocking_pair: tuple[Peer, Peer],
) -> None:
    x, y = blocking_pair
    admin = await staff(x, "admin")
    reader, writer = await x.register("reader"), await y.register("writer")
    await following(reader, writer)
    before = await writer.post("before the silence")
    await eventually(lambda: local_copy(x, before["ap_id"]))
    assert before["ap_id"] in await public_ap_ids(x)

    made = await block(admin, host_of(y), severity="silence", public_comment="too loud")
    assert before["ap_id"] not in await public_ap_ids(x)
    during = await writer.post("while silenced")

    async def in_home() -> bool:
        return during["ap_id"] in [p["ap_id"] for p in await home_posts(reader)]

    await eventually(in_home)
    assert during["ap_id"] not in await public_ap_ids(x)
    # Still public on its own server.
    assert during["ap_id"] in await public_ap_ids(y)
    await unblock(admin, made)
    assert during["ap_id"] in await public_ap_ids(x)
    actions = await x.pool.fetch(
        "SELECT action, actor FROM audit_log WHERE target = $1 ORDER BY id", host_of(y)
    )
    assert [(r[0], r[1]) for r in actions] == [
        ("domain_block.create", admin.handle),
        ("domain_block.delete", admin.handle),
    ]


async def test_reject_reports_drops_flags_from_the_domain(
    blocking_pair: tuple[Peer, Peer],
) -> None:
    x, y = blocking_pair
    admin = await staff(x, "admin")
    target, reporter = await x.register("target"), await y.register("reporter")
    await x.resolve(reporter)  # x knows the reporter's actor and key
    counted = "SELECT count(*) FROM reports WHERE target_account_id = $1"

    first = flag_of(reporter, target)
    assert (await signed_post(reporter, x, first)).status_code == 202

    async def reported() -> bool:
        return bool(await x.value(counted, int(target.id)) == 1)

    await eventually(reported)
    made = await block(admin, host_of(y), severity="noop", reject_reports=True)
    second = flag_of(reporter, target)
    assert (await signed_post(reporter, x, second)).status_code == 202

    async def dropped() -> str | None:
        error: str | None = await x.value(
            "SELECT error FROM inbox_activities WHERE ap_id = $1 AND processed_at IS NOT NULL",
            second["id"],
        )
        return error

    assert "reports from this domain are rejected" in await eventually(dropped)
    assert await x.value(counted, int(target.id)) == 1
    await unblock(admin, made)


async def test_a_suspended_domain_loses_its_follows_and_is_refused(
    blocking_pair: tuple[Peer, Peer],
) -> None:
    x, y = blocking_pair
    admin = await staff(x, "admin")
    near, far = await x.register("near"), await y.register("far")
    far_on_x = await following(near, far)
    near_on_y = await following(far, near)
    post = await far.post("seen before the suspension")

    async def in_home() -> bool:
        return post["ap_id"] in [p["ap_id"] for p in await home_posts(near)]

    await eventually(in_home)
    both_ways = (
        "SELECT count(*) FROM follows WHERE (follower_id = $1 AND followee_id = $2)"
        " OR (follower_id = $2 AND followee_id = $1)"
    )
    assert await x.value(both_ways, int(near.id), int(far_on_x)) == 2

    made = await block(admin, host_of(y), severity="suspend", private_comment="abuse")
    assert await x.value(both_ways, int(near.id), int(far_on_x)) == 0
    assert post["ap_id"] not in [p["ap_id"] for p in await home_posts(near)]
    assert post["ap_id"] not in await public_ap_ids(x)
    assert await x.value("SELECT blocked FROM instances WHERE domain = $1", host_of(y))
    # Its activities are refused at the door, signed by its own actor.
    note = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{far.actor_url}/activities/{secrets.token_hex(6)}",
        "type": "Create",
        "actor": far.actor_url,
        "object": {
            "id": f"{far.actor_url}/notes/{secrets.token_hex(6)}",
            "type": "Note",
            "attributedTo": far.actor_url,
            "content": "<p>let me in</p>",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
        },
    }
    refused = await signed_post(far, x, note)
    assert refused.status_code == 403 and "blocked" in refused.text
    # Its own side keeps its follow of `near`: y is not told (as on Mastodon).
    assert (
        await y.value(
            "SELECT count(*) FROM follows WHERE follower_id = $1 AND followee_id = $2",
            int(far.id),
            int(near_on_y),
        )
        == 1
    )
    details = await x.value(
        "SELECT details::text FROM audit_log WHERE target = $1"
        " AND action = 'domain_block.create' ORDER BY id DESC LIMIT 1",
        host_of(y),
    )
    # Both of these, and those of the other tests' people on y.
    assert json.loads(details)["follows_cut"] >= 2
    await unblock(admin, made)
    assert not await x.value("SELECT blocked FROM instances WHERE domain = $1", host_of(y))
