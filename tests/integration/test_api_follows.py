"""Follows, follow requests, following/followers lists, blocks and mutes through the HTTP API."""

from __future__ import annotations

from typing import Any

from quart.typing import TestClientProtocol as Client

from stgy.services import Services
from tests.conftest import User, make_user
from tests.integration.test_outbox import drain
from tests.integration.timeline_support import create_post, entries, home, remote_account


async def counts(client: Client, user: User | int) -> tuple[int, int]:
    """(followers_count, following_count) of an account."""
    account_id = user.id if isinstance(user, User) else user
    body = await (await client.get(f"/api/accounts/{account_id}")).get_json()
    return body["followers_count"], body["following_count"]


async def ids_of(client: Client, path: str, user: User | None = None, **params: Any) -> list[str]:
    response = await client.get(path, query_string=params, headers=user.auth if user else {})
    assert response.status_code == 200, await response.get_data(as_text=True)
    return [account["id"] for account in (await response.get_json())["accounts"]]


async def events_between(services: Services, a: User | int, b: User | int) -> list[str]:
    """Kinds of follow events for the pair a → b, oldest first."""
    async with services.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT kind FROM outbox_events WHERE kind LIKE 'follow.%'"
            " AND payload->>'follower_id' = $1 AND payload->>'followee_id' = $2 ORDER BY id",
            str(a.id if isinstance(a, User) else a),
            str(b.id if isinstance(b, User) else b),
        )
    return [row["kind"] for row in rows]


async def test_follow_and_unfollow(client: Client, services: Services) -> None:
    a, b = await make_user(client), await make_user(client)
    for _ in range(2):  # the second time changes nothing
        response = await client.put(f"/api/accounts/{b.id}/follow", headers=a.auth)
        assert response.status_code == 204
        assert await response.get_data(as_text=True) == ""
        assert await counts(client, a) == (0, 1) and await counts(client, b) == (1, 0)
    assert await ids_of(client, f"/api/accounts/{b.id}/followers") == [a.id]
    assert await ids_of(client, f"/api/accounts/{a.id}/following") == [b.id]
    assert await ids_of(client, f"/api/accounts/{a.id}/followers") == []
    assert await events_between(services, a, b) == ["follow.accepted"]

    for _ in range(2):
        response = await client.delete(f"/api/accounts/{b.id}/follow", headers=a.auth)
        assert response.status_code == 204
        assert await counts(client, a) == (0, 0) and await counts(client, b) == (0, 0)
    assert await ids_of(client, f"/api/accounts/{b.id}/followers") == []
    assert await events_between(services, a, b) == ["follow.accepted", "follow.removed"]


async def test_locked_account_approves_followers(client: Client, services: Services) -> None:
    owner = await make_user(client, locked=True)
    a, c, d = [await make_user(client) for _ in range(3)]
    for _ in range(2):
        response = await client.put(f"/api/accounts/{owner.id}/follow", headers=a.auth)
        assert response.status_code == 202
        assert await response.get_json() == {"state": "pending"}
    await client.put(f"/api/accounts/{owner.id}/follow", headers=c.auth)
    await client.put(f"/api/accounts/{owner.id}/follow", headers=d.auth)
    assert await counts(client, owner) == (0, 0) and await counts(client, a) == (0, 0)
    assert await ids_of(client, f"/api/accounts/{owner.id}/followers") == []
    assert await ids_of(client, "/api/follow_requests", owner) == [d.id, c.id, a.id]
    assert await ids_of(client, "/api/follow_requests", a) == []
    assert await events_between(services, a, owner) == ["follow.requested"]

    # Accept: counted, listed, an event; accepting again is fine.
    for _ in range(2):
        response = await client.post(f"/api/follow_requests/{a.id}/accept", headers=owner.auth)
        assert response.status_code == 204
    assert await counts(client, owner) == (1, 0) and await counts(client, a) == (0, 1)
    assert await ids_of(client, f"/api/accounts/{owner.id}/followers") == [a.id]
    assert await events_between(services, a, owner) == ["follow.requested", "follow.accepted"]
    # Following an accepted follow again is 204 now.
    assert (await client.put(f"/api/accounts/{owner.id}/follow", headers=a.auth)).status_code == 204

    # Reject deletes the request; it cannot be rejected (or accepted) twice.
    response = await client.post(f"/api/follow_requests/{c.id}/reject", headers=owner.auth)
    assert response.status_code == 204
    for verb in ("reject", "accept"):
        response = await client.post(f"/api/follow_requests/{c.id}/{verb}", headers=owner.auth)
        assert response.status_code == 404
    # An accepted follower is not a request to reject.
    response = await client.post(f"/api/follow_requests/{a.id}/reject", headers=owner.auth)
    assert response.status_code == 404
    # The follower withdraws a request with DELETE.
    assert (
        await client.delete(f"/api/accounts/{owner.id}/follow", headers=d.auth)
    ).status_code == 204
    assert await ids_of(client, "/api/follow_requests", owner) == []
    assert await counts(client, owner) == (1, 0)
    assert await events_between(services, d, owner) == ["follow.requested", "follow.removed"]
    for bad in ("abc", "0", "123"):
        response = await client.post(f"/api/follow_requests/{bad}/accept", headers=owner.auth)
        assert response.status_code == 404


async def test_remote_account_is_followed_pending(client: Client, services: Services) -> None:
    a = await make_user(client)
    remote = await remote_account(services)
    response = await client.put(f"/api/accounts/{remote}/follow", headers=a.auth)
    assert response.status_code == 202 and await response.get_json() == {"state": "pending"}
    assert await events_between(services, a, remote) == ["follow.requested"]
    assert await counts(client, a) == (0, 0)


async def test_follow_errors(client: Client, services: Services) -> None:
    a, b = await make_user(client), await make_user(client)
    response = await client.put(f"/api/accounts/{a.id}/follow", headers=a.auth)
    assert response.status_code == 400
    assert (await response.get_json())["detail"]["field"] == "id"
    for bad in ("123", "abc", "0", "99999999999999999999"):
        for method in (client.put, client.delete):
            response = await method(f"/api/accounts/{bad}/follow", headers=a.auth)
            assert response.status_code == 404, (method, bad)
    for path in ("/api/accounts/123/followers", "/api/accounts/abc/following"):
        assert (await client.get(path)).status_code == 404

    # A deleted account cannot be followed.
    gone = await make_user(client)
    await client.delete("/api/accounts/me", json={"password": gone.password}, headers=gone.auth)
    assert (await client.put(f"/api/accounts/{gone.id}/follow", headers=a.auth)).status_code == 404

    # No login: 401.
    for method, path in (
        (client.put, f"/api/accounts/{b.id}/follow"),
        (client.delete, f"/api/accounts/{b.id}/follow"),
        (client.get, "/api/follow_requests"),
        (client.post, f"/api/follow_requests/{b.id}/accept"),
        (client.post, f"/api/follow_requests/{b.id}/reject"),
        (client.put, f"/api/accounts/{b.id}/block"),
        (client.delete, f"/api/accounts/{b.id}/block"),
        (client.put, f"/api/accounts/{b.id}/mute"),
        (client.delete, f"/api/accounts/{b.id}/mute"),
        (client.get, "/api/blocks"),
        (client.get, "/api/mutes"),
    ):
        response = await method(path)
        assert response.status_code == 401, path
        assert (await response.get_json())["error"] == "unauthorized"


async def test_account_lists_are_paged(client: Client) -> None:
    star = await make_user(client)
    fans = [await make_user(client) for _ in range(5)]
    for fan in fans:
        await client.put(f"/api/accounts/{star.id}/follow", headers=fan.auth)
    seen: list[str] = []
    until: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"until": until} if until else {})}
        response = await client.get(f"/api/accounts/{star.id}/followers", query_string=params)
        page = await response.get_json()
        assert len(page["accounts"]) <= 2
        seen += [account["id"] for account in page["accounts"]]
        until = page["next"]
        if until is None:
            break
        assert until == page["accounts"][-1]["id"]
    assert seen == sorted((fan.id for fan in fans), key=int, reverse=True)
    assert len(await ids_of(client, f"/api/accounts/{star.id}/followers")) == 5

    for params, field in (
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"until": "x"}, "until"),
        ({"page": "2"}, "page"),
    ):
        response = await client.get(f"/api/accounts/{star.id}/followers", query_string=params)
        assert response.status_code == 400
        assert (await response.get_json())["detail"]["field"] == field


async def test_block_ends_follows_both_ways_and_hides_posts(
    client: Client, services: Services
) -> None:
    a, b = await make_user(client), await make_user(client)
    await client.put(f"/api/accounts/{b.id}/follow", headers=a.auth)
    await client.put(f"/api/accounts/{a.id}/follow", headers=b.auth)
    a_post = await create_post(client, services, a, "from a")
    b_post = await create_post(client, services, b, "from b")
    await drain(services)
    assert await home(client, a) == [str(b_post), str(a_post)]
    assert await counts(client, a) == (1, 1) and await counts(client, b) == (1, 1)

    for _ in range(2):
        assert (await client.put(f"/api/accounts/{b.id}/block", headers=a.auth)).status_code == 204
    assert await counts(client, a) == (0, 0) and await counts(client, b) == (0, 0)
    assert await ids_of(client, f"/api/accounts/{a.id}/followers") == []
    assert await ids_of(client, f"/api/accounts/{a.id}/following") == []
    assert await events_between(services, a, b) == ["follow.accepted", "follow.removed"]
    assert await events_between(services, b, a) == ["follow.accepted", "follow.removed"]
    assert await ids_of(client, "/api/blocks", a) == [b.id]
    assert await ids_of(client, "/api/blocks", b) == []

    # Neither can follow the other while the block stands.
    for who, whom in ((a, b), (b, a)):
        response = await client.put(f"/api/accounts/{whom.id}/follow", headers=who.auth)
        assert response.status_code == 403

    # Neither sees the other's posts, at home or in the public timelines.
    await drain(services)
    assert await home(client, a) == [str(a_post)]
    assert await home(client, b) == [str(b_post)]
    assert await entries(services, a) == [a_post]
    for viewer, hidden in ((a, b_post), (b, a_post)):
        response = await client.get("/api/timelines/local", headers=viewer.auth)
        assert str(hidden) not in [p["id"] for p in (await response.get_json())["posts"]]

    for _ in range(2):
        response = await client.delete(f"/api/accounts/{b.id}/block", headers=a.auth)
        assert response.status_code == 204
    assert await ids_of(client, "/api/blocks", a) == []
    assert (await client.put(f"/api/accounts/{b.id}/follow", headers=a.auth)).status_code == 204

    response = await client.put(f"/api/accounts/{a.id}/block", headers=a.auth)
    assert response.status_code == 400 and (await response.get_json())["detail"]["field"] == "id"
    assert (await client.put("/api/accounts/123/block", headers=a.auth)).status_code == 404


async def test_mute_and_mute_list(client: Client) -> None:
    a = await make_user(client)
    others = [await make_user(client) for _ in range(3)]
    for other in others:
        for _ in range(2):
            response = await client.put(f"/api/accounts/{other.id}/mute", headers=a.auth)
            assert response.status_code == 204
    expected = sorted((o.id for o in others), key=int, reverse=True)
    assert await ids_of(client, "/api/mutes", a) == expected
    page = await (
        await client.get("/api/mutes", query_string={"limit": 2}, headers=a.auth)
    ).get_json()
    assert [acc["id"] for acc in page["accounts"]] == expected[:2] and page["next"] == expected[1]
    await client.delete(f"/api/accounts/{others[0].id}/mute", headers=a.auth)
    assert await ids_of(client, "/api/mutes", a) == [o for o in expected if o != others[0].id]
    # Muting is not following: nothing changes in the counters, and following still works.
    assert (
        await client.put(f"/api/accounts/{others[1].id}/follow", headers=a.auth)
    ).status_code == 204
    assert (await client.put(f"/api/accounts/{a.id}/mute", headers=a.auth)).status_code == 400
    assert (await client.delete("/api/accounts/123/mute", headers=a.auth)).status_code == 404
