"""Notifications through the HTTP API: made once per event by the outbox, listed, read."""

from __future__ import annotations

from typing import Any

from quart.typing import TestClientProtocol as Client

from stgy.domain.jobs import outbox
from stgy.services import Services
from tests.conftest import User, make_user
from tests.integration.test_outbox import drain


async def create_post(client: Client, user: User, text: str, **fields: Any) -> dict[str, Any]:
    response = await client.post("/api/posts", json={"text": text, **fields}, headers=user.auth)
    assert response.status_code == 201, await response.get_data(as_text=True)
    body: dict[str, Any] = await response.get_json()
    return body


async def act(client: Client, user: User, method: str, path: str) -> None:
    response = await client.open(path, method=method, headers=user.auth)
    assert response.status_code in (200, 201, 202, 204), await response.get_data(as_text=True)


async def notifications_of(client: Client, user: User, **params: Any) -> dict[str, Any]:
    response = await client.get("/api/notifications", query_string=params, headers=user.auth)
    assert response.status_code == 200, await response.get_data(as_text=True)
    body: dict[str, Any] = await response.get_json()
    return body


def summary(page: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    """(type, actor id, post id) of each notification, oldest first."""
    return sorted(
        (
            (n["type"], n["account"]["id"], n["post"]["id"] if n["post"] else None)
            for n in page["notifications"]
        ),
    )


async def last_event_id(services: Services) -> int:
    async with services.pool.acquire() as conn:
        found: int = await conn.fetchval("SELECT coalesce(max(id), 0) FROM outbox_events")
    return found


async def run_again(services: Services, after_event: int) -> int:
    """Apply every event after `after_event` a second time, as a job that ran twice would."""
    async with services.pool.acquire() as conn:
        ids = await conn.fetch(
            "UPDATE outbox_events SET done_at = NULL WHERE id > $1 RETURNING id", after_event
        )
    for event_id in sorted(row["id"] for row in ids):
        assert await outbox.handle_event(services, event_id) == "done"
    return len(ids)


async def test_each_kind_notifies_its_recipient_once(client: Client, services: Services) -> None:
    alice, bob, carol = [await make_user(client) for _ in range(3)]
    dave = await make_user(client, locked=True)
    start = await last_event_id(services)

    await act(client, bob, "PUT", f"/api/accounts/{alice.id}/follow")
    post = await create_post(client, alice, "hello, world")
    reply = await create_post(client, bob, "nice one", reply_to=post["id"])
    # Carol both replies to and mentions Alice: Alice hears of it once, as a mention.
    mention = await create_post(client, carol, f"@{alice.handle} indeed", reply_to=post["id"])
    await act(client, bob, "PUT", f"/api/posts/{post['id']}/like")
    await act(client, bob, "PUT", f"/api/posts/{post['id']}/share")
    await act(client, bob, "PUT", f"/api/accounts/{dave.id}/follow")
    await drain(services)

    expected = sorted(
        [
            ("follow", bob.id, None),
            ("reply", bob.id, reply["id"]),
            ("mention", carol.id, mention["id"]),
            ("like", bob.id, post["id"]),
            ("share", bob.id, post["id"]),
        ]
    )
    assert summary(await notifications_of(client, alice)) == expected
    assert summary(await notifications_of(client, dave)) == [("follow_request", bob.id, None)]

    # Dave approves: he accepted it himself, so no "follow" on top of the request.
    await act(client, dave, "POST", f"/api/follow_requests/{bob.id}/accept")
    await drain(services)
    assert summary(await notifications_of(client, dave)) == [("follow_request", bob.id, None)]

    assert await run_again(services, start) > 0
    assert summary(await notifications_of(client, alice)) == expected
    assert summary(await notifications_of(client, dave)) == [("follow_request", bob.id, None)]
    for user in (bob, carol):
        assert (await notifications_of(client, user))["notifications"] == []


async def test_nobody_is_notified_of_their_own_doing(client: Client, services: Services) -> None:
    alice = await make_user(client)
    post = await create_post(client, alice, "mine")
    await create_post(client, alice, f"@{alice.handle} talking to myself", reply_to=post["id"])
    await act(client, alice, "PUT", f"/api/posts/{post['id']}/like")
    await act(client, alice, "PUT", f"/api/posts/{post['id']}/share")
    await drain(services)
    assert (await notifications_of(client, alice))["notifications"] == []


async def test_notification_shape(client: Client, services: Services) -> None:
    alice, bob = await make_user(client), await make_user(client)
    post = await create_post(client, alice, "shape")
    await act(client, bob, "PUT", f"/api/posts/{post['id']}/like")
    await drain(services)
    page = await notifications_of(client, alice)
    [n] = page["notifications"]
    assert set(n) == {"id", "type", "created_at", "read", "account", "post", "text"}
    assert n["text"] is None  # a moderation warning's words only
    assert n["type"] == "like" and n["read"] is False and n["created_at"].endswith("Z")
    assert n["account"]["handle"] == bob.handle
    # The post is seen by its recipient, with the recipient's own state.
    assert n["post"]["id"] == post["id"] and n["post"]["likes_count"] == 1
    assert n["post"]["liked"] is False
    assert page["newest"] == page["oldest"] == n["id"]


async def test_muted_and_blocked_actors_do_not_notify(client: Client, services: Services) -> None:
    alice, bob, carol = [await make_user(client) for _ in range(3)]
    post = await create_post(client, alice, "quiet please")
    await act(client, alice, "PUT", f"/api/accounts/{bob.id}/mute")
    await act(client, bob, "PUT", f"/api/posts/{post['id']}/like")
    await act(client, carol, "PUT", f"/api/posts/{post['id']}/like")
    await drain(services)
    assert summary(await notifications_of(client, alice)) == [("like", carol.id, post["id"])]

    # Blocking later hides what the blocked account did before.
    await act(client, alice, "PUT", f"/api/accounts/{carol.id}/block")
    assert (await notifications_of(client, alice))["notifications"] == []


async def test_deleted_post_takes_its_notifications_along(
    client: Client, services: Services
) -> None:
    alice, bob = await make_user(client), await make_user(client)
    post = await create_post(client, alice, "soon gone")
    reply = await create_post(client, bob, "a reply", reply_to=post["id"])
    await drain(services)
    assert summary(await notifications_of(client, alice)) == [("reply", bob.id, reply["id"])]
    await act(client, bob, "DELETE", f"/api/posts/{reply['id']}")
    assert (await notifications_of(client, alice))["notifications"] == []
    assert (await unread(client, alice)) == 0


async def test_filter_by_types(client: Client, services: Services) -> None:
    alice, bob = await make_user(client), await make_user(client)
    post = await create_post(client, alice, "filter me")
    await act(client, bob, "PUT", f"/api/accounts/{alice.id}/follow")
    await act(client, bob, "PUT", f"/api/posts/{post['id']}/like")
    await act(client, bob, "PUT", f"/api/posts/{post['id']}/share")
    await drain(services)

    def types(page: dict[str, Any]) -> list[str]:
        return sorted(n["type"] for n in page["notifications"])

    assert types(await notifications_of(client, alice)) == ["follow", "like", "share"]
    assert types(await notifications_of(client, alice, types="like,share")) == ["like", "share"]
    assert types(await notifications_of(client, alice, types="like")) == ["like"]
    assert types(await notifications_of(client, alice, exclude_types="like")) == [
        "follow",
        "share",
    ]
    assert types(await notifications_of(client, alice, types="mention")) == []

    for params, field in (
        ({"types": "like,poke"}, "types"),
        ({"exclude_types": "nope"}, "exclude_types"),
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"until": "abc"}, "until"),
        ({"colour": "red"}, "colour"),
    ):
        response = await client.get("/api/notifications", query_string=params, headers=alice.auth)
        assert response.status_code == 400, params
        assert (await response.get_json())["detail"]["field"] == field


async def test_pages_newest_first(client: Client, services: Services) -> None:
    alice = await make_user(client)
    likers = [await make_user(client) for _ in range(5)]
    post = await create_post(client, alice, "popular")
    for liker in likers:
        await act(client, liker, "PUT", f"/api/posts/{post['id']}/like")
    await drain(services)

    everything = await notifications_of(client, alice)
    ids = [n["id"] for n in everything["notifications"]]
    assert len(ids) == 5 and ids == sorted(ids, key=int, reverse=True)

    seen: list[str] = []
    until = None
    while True:
        params = {"limit": 2, **({"until": until} if until else {})}
        page = await notifications_of(client, alice, **params)
        if not page["notifications"]:
            assert page["newest"] is None and page["oldest"] is None
            break
        assert len(page["notifications"]) <= 2
        seen += [n["id"] for n in page["notifications"]]
        until = page["oldest"]
    assert seen == ids

    newer = await notifications_of(client, alice, since=ids[2])
    assert [n["id"] for n in newer["notifications"]] == ids[:2]


async def unread(client: Client, user: User) -> int:
    response = await client.get("/api/notifications/unread_count", headers=user.auth)
    assert response.status_code == 200
    count: int = (await response.get_json())["count"]
    return count


async def test_mark_read_and_unread_count(client: Client, services: Services) -> None:
    alice = await make_user(client)
    likers = [await make_user(client) for _ in range(4)]
    post = await create_post(client, alice, "read me")
    for liker in likers:
        await act(client, liker, "PUT", f"/api/posts/{post['id']}/like")
    await drain(services)
    ids = [n["id"] for n in (await notifications_of(client, alice))["notifications"]]
    assert await unread(client, alice) == 4

    read = await client.post("/api/notifications/read", json={"up_to": ids[2]}, headers=alice.auth)
    assert read.status_code == 204
    assert await unread(client, alice) == 2
    flags = {n["id"]: n["read"] for n in (await notifications_of(client, alice))["notifications"]}
    assert flags == {ids[0]: False, ids[1]: False, ids[2]: True, ids[3]: True}

    # Someone else's ids change nothing of theirs.
    bob = likers[0]
    other = await client.post("/api/notifications/read", json={"ids": ids}, headers=bob.auth)
    assert other.status_code == 204
    assert await unread(client, alice) == 2

    by_ids = await client.post(
        "/api/notifications/read", json={"ids": [ids[0], ids[1]]}, headers=alice.auth
    )
    assert by_ids.status_code == 204
    assert await unread(client, alice) == 0

    for body, field in (
        ({}, "up_to"),
        ({"up_to": ids[0], "ids": [ids[0]]}, "up_to"),
        ({"up_to": "x"}, "up_to"),
        ({"up_to": 5}, "up_to"),
        ({"ids": ["1", "two"]}, "ids.1"),
        ({"ids": ["1"] * 101}, "ids"),
        ({"all": True}, "all"),
    ):
        response = await client.post("/api/notifications/read", json=body, headers=alice.auth)
        assert response.status_code == 400, body
        assert (await response.get_json())["detail"]["field"] == field, body


async def test_login_required(client: Client) -> None:
    for method, path in (
        ("GET", "/api/notifications"),
        ("GET", "/api/notifications/unread_count"),
        ("POST", "/api/notifications/read"),
    ):
        response = await client.open(path, method=method, json={"up_to": "1"})
        assert response.status_code == 401, path
        assert (await response.get_json())["error"] == "unauthorized"
