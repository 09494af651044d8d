"""Posts through the HTTP API, part two: interactions (likes, shares, bookmarks), listings, ids."""

from __future__ import annotations

import pytest
from quart.typing import TestClientProtocol as Client

from stgy.services import Services
from tests.conftest import make_user
from tests.integration.test_api_posts import (
    BASE,
    account_post_ids,
    delete,
    events_for,
    get_json,
    post,
    put,
)


async def test_delete_returns_post_and_hides_it(client: Client, services: Services) -> None:
    alice, bob = await make_user(client), await make_user(client)
    root = await post(client, alice, "root")
    reply = await post(client, bob, "reply to delete", reply_to=root["id"])
    assert (await delete(client, f"/api/posts/{reply['id']}", alice))[0] == 404
    status, gone = await delete(client, f"/api/posts/{reply['id']}", bob)
    assert status == 200 and gone["id"] == reply["id"] and gone["text"] == "reply to delete"
    assert (await get_json(client, f"/api/posts/{reply['id']}"))[0] == 404
    assert reply["id"] not in await account_post_ids(client, bob)
    assert (await get_json(client, f"/api/accounts/{bob.id}"))[1]["posts_count"] == 0
    status, thread = await get_json(client, f"/api/posts/{root['id']}")
    assert thread["post"]["replies_count"] == 0 and thread["replies"] == []
    assert (await delete(client, f"/api/posts/{reply['id']}", bob))[0] == 404
    assert await events_for(services, "post.deleted", reply["id"]) == [
        {"post_id": int(reply["id"])}
    ]
    # Replying to a deleted post is replying to nothing.
    response = await client.post(
        "/api/posts", json={"text": "late", "reply_to": reply["id"]}, headers=alice.auth
    )
    assert response.status_code == 404


async def test_followers_only_and_direct_visibility(client: Client) -> None:
    author, follower, stranger, named = [await make_user(client) for _ in range(4)]
    response = await client.put(f"/api/accounts/{author.id}/follow", headers=follower.auth)
    assert response.status_code == 204
    private = await post(client, author, "for followers", visibility="followers")
    direct = await post(client, author, f"psst @{named.handle}", visibility="direct")
    public = await post(client, author, "for all")
    path = f"/api/posts/{private['id']}"
    assert (await get_json(client, path))[0] == 404
    assert (await get_json(client, path, stranger))[0] == 404
    assert (await get_json(client, path, follower))[0] == 200
    assert (await get_json(client, path, author))[0] == 200
    direct_path = f"/api/posts/{direct['id']}"
    assert (await get_json(client, direct_path, follower))[0] == 404
    assert (await get_json(client, direct_path, named))[0] == 200
    assert await account_post_ids(client, author) == [public["id"]]
    assert await account_post_ids(client, author, follower) == [public["id"], private["id"]]
    assert await account_post_ids(client, author, author) == [
        public["id"],
        direct["id"],
        private["id"],
    ]
    # Nobody may like, share or reply to what they cannot see.
    assert (await put(client, f"{path}/like", stranger))[0] == 404
    response = await client.post(
        "/api/posts", json={"text": "re", "reply_to": private["id"]}, headers=stranger.auth
    )
    assert response.status_code == 404


async def test_likes(client: Client, services: Services) -> None:
    alice, bob, carol = [await make_user(client) for _ in range(3)]
    body = await post(client, alice, "like me")
    path = f"/api/posts/{body['id']}/like"
    for _ in range(2):
        status, liked = await put(client, path, bob)
        assert status == 200 and liked["liked"] is True and liked["likes_count"] == 1
    status, liked = await put(client, path, carol)
    assert liked["likes_count"] == 2
    assert len(await events_for(services, "post.liked", body["id"])) == 2
    assert {"post_id": int(body["id"]), "account_id": int(bob.id)} in await events_for(
        services, "post.liked", body["id"]
    )
    status, page = await get_json(client, f"/api/posts/{body['id']}/likes?limit=1")
    assert status == 200 and [a["id"] for a in page["accounts"]] == [carol.id]
    status, page = await get_json(client, f"/api/posts/{body['id']}/likes?until={page['next']}")
    assert [a["id"] for a in page["accounts"]] == [bob.id] and page["next"] is None
    bad = await client.get(f"/api/posts/{body['id']}/likes?until=nonsense")
    assert bad.status_code == 400 and (await bad.get_json())["detail"]["field"] == "until"
    anonymous = (await get_json(client, f"/api/posts/{body['id']}"))[1]["post"]
    assert anonymous["liked"] is None and anonymous["likes_count"] == 2

    for _ in range(2):
        status, unliked = await delete(client, path, bob)
        assert status == 200 and unliked["liked"] is False and unliked["likes_count"] == 1

    closed = await post(client, alice, "no likes", allow_likes=False)
    status, error = await put(client, f"/api/posts/{closed['id']}/like", bob)
    assert status == 403 and error["error"] == "forbidden"
    assert (await put(client, f"/api/posts/{closed['id']}/like", alice))[0] == 200


async def test_shares(client: Client, services: Services) -> None:
    alice, bob, carol = [await make_user(client) for _ in range(3)]
    original = await post(client, alice, "share me")
    path = f"/api/posts/{original['id']}/share"
    for _ in range(2):
        status, shared = await put(client, path, bob)
        assert status == 200 and shared["id"] == original["id"]
        assert shared["shared"] is True and shared["shares_count"] == 1
    status, page = await get_json(client, f"/api/accounts/{bob.id}/posts")
    [share] = page["posts"]
    assert share["share_of"]["id"] == original["id"] and share["account"]["id"] == bob.id
    assert share["ap_id"] == f"{BASE}/users/{bob.handle}/posts/{share['id']}/activity"
    status, thread = await get_json(client, f"/api/posts/{share['id']}")
    assert status == 200 and thread["post"]["share_of"]["id"] == original["id"]
    assert await events_for(services, "post.created", share["id"]) == [
        {"post_id": int(share["id"])}
    ]
    # Sharing a share shares the original; liking a share likes the original.
    status, shared = await put(client, f"/api/posts/{share['id']}/share", carol)
    assert shared["id"] == original["id"] and shared["shares_count"] == 2
    status, liked = await put(client, f"/api/posts/{share['id']}/like", carol)
    assert liked["id"] == original["id"] and liked["likes_count"] == 1

    status, unshared = await delete(client, path, bob)
    assert status == 200 and unshared["shared"] is False and unshared["shares_count"] == 1
    assert await account_post_ids(client, bob) == []
    assert await events_for(services, "post.deleted", share["id"]) == [
        {"post_id": int(share["id"])}
    ]

    private = await post(client, alice, "followers only", visibility="followers")
    status, error = await put(client, f"/api/posts/{private['id']}/share", alice)
    assert status == 403 and "cannot share" in error["detail"]

    # The share of a deleted post disappears with it.
    assert len(await account_post_ids(client, carol)) == 1
    assert (await delete(client, f"/api/posts/{original['id']}", alice))[0] == 200
    assert await account_post_ids(client, carol) == []


async def test_bookmarks(client: Client) -> None:
    alice, bob = await make_user(client), await make_user(client)
    posts = [await post(client, alice, f"post {i}") for i in range(3)]
    for p in posts:
        status, body = await put(client, f"/api/posts/{p['id']}/bookmark", bob)
        assert status == 200 and body["bookmarked"] is True
    await put(client, f"/api/posts/{posts[0]['id']}/bookmark", bob)
    status, page = await get_json(client, "/api/bookmarks?limit=2", bob)
    assert status == 200
    assert [p["id"] for p in page["posts"]] == [posts[2]["id"], posts[1]["id"]]
    status, rest = await get_json(client, f"/api/bookmarks?until={page['oldest']}", bob)
    assert [p["id"] for p in rest["posts"]] == [posts[0]["id"]]
    status, body = await delete(client, f"/api/posts/{posts[1]['id']}/bookmark", bob)
    assert status == 200 and body["bookmarked"] is False
    status, page = await get_json(client, "/api/bookmarks", bob)
    assert [p["id"] for p in page["posts"]] == [posts[2]["id"], posts[0]["id"]]
    assert (await get_json(client, "/api/bookmarks", alice))[1]["posts"] == []


async def test_account_posts_paging(client: Client) -> None:
    user = await make_user(client)
    ids = [(await post(client, user, f"number {i}"))["id"] for i in range(5)]
    newest_first = ids[::-1]
    status, page = await get_json(client, f"/api/accounts/{user.id}/posts?limit=2")
    assert status == 200 and [p["id"] for p in page["posts"]] == newest_first[:2]
    assert page["newest"] == newest_first[0] and page["oldest"] == newest_first[1]
    status, page = await get_json(
        client, f"/api/accounts/{user.id}/posts?limit=2&until={page['oldest']}"
    )
    assert [p["id"] for p in page["posts"]] == newest_first[2:4]
    status, page = await get_json(client, f"/api/accounts/{user.id}/posts?since={ids[2]}")
    assert [p["id"] for p in page["posts"]] == newest_first[:2]
    status, page = await get_json(client, f"/api/accounts/@{user.handle}/posts?limit=1")
    assert status == 200 and [p["id"] for p in page["posts"]] == newest_first[:1]
    status, page = await get_json(client, f"/api/accounts/{user.id}/posts?until={ids[0]}")
    assert page == {"posts": [], "newest": None, "oldest": None}
    for bad, field in (
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=x", "limit"),
        ("until=abc", "until"),
        ("since=-1", "since"),
        ("page=2", "page"),
    ):
        status, body = await get_json(client, f"/api/accounts/{user.id}/posts?{bad}")
        assert status == 400 and body["detail"]["field"] == field, bad
    for missing in ("123", "abc", "@nobody_at_all"):
        assert (await get_json(client, f"/api/accounts/{missing}/posts"))[0] == 404


@pytest.mark.parametrize("bad", ["abc", "0", "-1", "99999999999999999999", "123"])
async def test_bad_post_ids_are_not_found(client: Client, bad: str) -> None:
    user = await make_user(client)
    assert (await get_json(client, f"/api/posts/{bad}"))[0] == 404
    assert (await get_json(client, f"/api/posts/{bad}/likes"))[0] == 404
    for action in ("like", "share", "bookmark"):
        assert (await put(client, f"/api/posts/{bad}/{action}", user))[0] == 404
    assert (await delete(client, f"/api/posts/{bad}", user))[0] == 404


async def test_openapi_documents_post_routes(client: Client) -> None:
    spec = await (await client.get("/api/openapi.json")).get_json()
    create = spec["paths"]["/api/posts"]["post"]
    assert "requestBody" in create and {"201", "400", "401"} <= set(create["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in create.get("parameters", []))
    like = spec["paths"]["/api/posts/{post_id}/like"]["put"]
    assert {"200", "403", "404"} <= set(like["responses"])
    listing = spec["paths"]["/api/accounts/{account_id}/posts"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"since", "until", "limit"}


@pytest.mark.parametrize("bad", ["³", "١٢٣", "1²"])
async def test_non_ascii_digits_are_not_ids(client: Client, bad: str) -> None:
    assert (await client.get(f"/api/posts/{bad}")).status_code == 404
    response = await client.get("/api/timelines/public", query_string={"since": bad})
    assert response.status_code == 400
