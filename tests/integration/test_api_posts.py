"""Posts, likes, shares and bookmarks through the HTTP API."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from quart.typing import TestClientProtocol as Client

from stgy.config import Config
from stgy.services import Services
from tests.conftest import User, make_user

BASE = "http://localhost:8000"


async def post(client: Client, user: User, text: str = "hello", **fields: Any) -> dict[str, Any]:
    response = await client.post("/api/posts", json={"text": text, **fields}, headers=user.auth)
    assert response.status_code == 201, await response.get_data(as_text=True)
    body: dict[str, Any] = await response.get_json()
    return body


async def get_json(client: Client, path: str, user: User | None = None) -> tuple[int, Any]:
    response = await client.get(path, headers=user.auth if user else {})
    return response.status_code, await response.get_json()


async def put(client: Client, path: str, user: User) -> tuple[int, Any]:
    response = await client.put(path, headers=user.auth)
    return response.status_code, await response.get_json()


async def delete(client: Client, path: str, user: User) -> tuple[int, Any]:
    response = await client.delete(path, headers=user.auth)
    return response.status_code, await response.get_json()


async def account_post_ids(client: Client, account: User, viewer: User | None = None) -> list[str]:
    status, body = await get_json(client, f"/api/accounts/{account.id}/posts", viewer)
    assert status == 200, body
    return [p["id"] for p in body["posts"]]


async def events_for(services: Services, kind: str, post_id: str) -> list[dict[str, Any]]:
    async with services.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT payload FROM outbox_events WHERE kind = $1 AND payload->>'post_id' = $2",
            kind,
            post_id,
        )
    return [json.loads(row["payload"]) for row in rows]


async def test_create_post_renders_links_and_records(client: Client, services: Services) -> None:
    alice, bob = await make_user(client), await make_user(client)
    text = (
        f"Hi @{alice.handle} and @nobody_known_here, #Stgy #123 #日本語 `@{alice.handle}`"
        " mail me@example.com <script>alert(1)</script> [x](javascript:alert(1))"
    )
    body = await post(client, bob, text, tags=["#Extra", "stgy"])
    html = body["html"]
    assert "<script" not in html and "&lt;script&gt;" in html and 'href="javascript' not in html
    assert (
        f'<span class="h-card"><a href="{BASE}/@{alice.handle}" class="u-url mention"'
        f' rel="nofollow noopener noreferrer">@<span>{alice.handle}</span></a></span>'
    ) in html
    assert "@nobody_known_here" in html and "nobody_known_here</a>" not in html
    assert f"<code>@{alice.handle}</code>" in html
    assert f'href="{BASE}/tags/stgy" class="mention hashtag"' in html
    assert 'rel="nofollow noopener noreferrer tag"' in html and "#123" in html
    assert body["tags"] == ["stgy", "日本語", "extra"]
    assert [m["id"] for m in body["mentions"]] == [alice.id]
    assert body["mentions"][0]["acct"] == alice.handle
    assert body["text"] == text and body["visibility"] == "public"
    assert body["sensitive"] is False and body["summary"] == ""
    assert body["ap_id"] == f"{BASE}/users/{bob.handle}/posts/{body['id']}"
    assert body["url"] == f"{BASE}/@{bob.handle}/{body['id']}"
    assert body["account"]["id"] == bob.id and body["account"]["posts_count"] == 1
    assert body["liked"] is False and body["in_reply_to_id"] is None

    post_id = int(body["id"])
    async with services.pool.acquire() as conn:
        assert await conn.fetchval("SELECT local FROM posts WHERE id = $1", post_id) is True
        tags = await conn.fetch("SELECT tag FROM post_tags WHERE post_id = $1", post_id)
        assert {r["tag"] for r in tags} == {"stgy", "日本語", "extra"}
        assert await conn.fetchval("SELECT count(*) FROM tags WHERE name = 'stgy'") == 1
        timeline = await conn.fetch(
            "SELECT owner_id, author_id FROM timeline_entries WHERE post_id = $1", post_id
        )
        assert [tuple(r) for r in timeline] == [(int(bob.id), int(bob.id))]
    assert await events_for(services, "post.created", body["id"]) == [{"post_id": post_id}]


async def test_summary_language_and_flags(client: Client) -> None:
    user = await make_user(client)
    body = await post(
        client,
        user,
        "spoilers",
        summary="film ending",
        language="EN",
        visibility="unlisted",
        allow_likes=False,
        allow_replies=False,
    )
    assert body["sensitive"] is True and body["summary"] == "film ending"
    assert body["language"] == "en" and body["visibility"] == "unlisted"
    assert body["allow_likes"] is False and body["allow_replies"] is False


async def test_length_limit_names_text(client: Client, config: Config) -> None:
    user = await make_user(client)
    limit = config.limits.post_length
    await post(client, user, "x" * limit)
    response = await client.post("/api/posts", json={"text": "x" * (limit + 1)}, headers=user.auth)
    assert response.status_code == 400
    assert (await response.get_json())["detail"]["field"] == "text"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "text"),
        ({"text": 5}, "text"),
        ({"text": "   \n"}, "text"),
        ({"text": "a\u0000b"}, "text"),
        ({"text": "a\ud800b"}, "text"),
        ({"text": "x", "visibility": "everyone"}, "visibility"),
        ({"text": "x", "sensitive": "yes"}, "sensitive"),
        ({"text": "x", "allow_likes": 1}, "allow_likes"),
        ({"text": "x", "reply_to": 5}, "reply_to"),
        ({"text": "x", "tags": "stgy"}, "tags"),
        ({"text": "x", "tags": ["#123"]}, "tags.0"),
        ({"text": "x", "tags": ["a b"]}, "tags.0"),
        ({"text": "x", "summary": "s" * 501}, "summary"),
        ({"text": "x", "language": "english"}, "language"),
        ({"text": "x", "media_ids": ["1"]}, "media_ids"),
        ({"text": "x", "colour": "red"}, "colour"),
    ],
)
async def test_bad_post_names_the_field(client: Client, body: dict[str, Any], field: str) -> None:
    user = await make_user(client)
    response = await client.post("/api/posts", json=body, headers=user.auth)
    assert response.status_code == 400, await response.get_json()
    assert (await response.get_json())["detail"]["field"] == field


async def test_writes_need_login(client: Client) -> None:
    user = await make_user(client)
    body = await post(client, user)
    response = await client.post("/api/posts", json={"text": "hi"})
    assert response.status_code == 401
    assert (await response.get_json())["error"] == "unauthorized"
    for method, path in (
        ("PATCH", f"/api/posts/{body['id']}"),
        ("DELETE", f"/api/posts/{body['id']}"),
        ("PUT", f"/api/posts/{body['id']}/like"),
        ("PUT", f"/api/posts/{body['id']}/share"),
        ("PUT", f"/api/posts/{body['id']}/bookmark"),
        ("GET", "/api/bookmarks"),
    ):
        kwargs: dict[str, Any] = {"json": {"text": "x"}} if method == "PATCH" else {}
        response = await client.open(path, method=method, **kwargs)
        assert response.status_code == 401, (method, path)


async def test_replies(client: Client, services: Services) -> None:
    alice, bob = await make_user(client), await make_user(client)
    for missing in ("123", "abc", "0"):
        response = await client.post(
            "/api/posts", json={"text": "re", "reply_to": missing}, headers=bob.auth
        )
        assert response.status_code == 404, missing
    root = await post(client, alice, "root")
    reply = await post(client, bob, "first reply", reply_to=root["id"])
    assert reply["in_reply_to_id"] == root["id"]
    assert reply["in_reply_to_account_id"] == alice.id
    deeper = await post(client, alice, "deeper", reply_to=reply["id"])

    status, thread = await get_json(client, f"/api/posts/{reply['id']}")
    assert status == 200
    assert thread["post"]["id"] == reply["id"]
    assert [p["id"] for p in thread["ancestors"]] == [root["id"]]
    assert [p["id"] for p in thread["replies"]] == [deeper["id"]]
    status, thread = await get_json(client, f"/api/posts/{deeper['id']}")
    assert [p["id"] for p in thread["ancestors"]] == [root["id"], reply["id"]]
    assert thread["ancestors"][0]["replies_count"] == 1
    async with services.pool.acquire() as conn:
        conversation = await conn.fetchval(
            "SELECT conversation_id FROM posts WHERE id = $1", int(deeper["id"])
        )
    assert conversation == int(root["id"])

    closed = await post(client, alice, "no replies please", allow_replies=False)
    response = await client.post(
        "/api/posts", json={"text": "but", "reply_to": closed["id"]}, headers=bob.auth
    )
    assert response.status_code == 403
    await post(client, alice, "my own thread", reply_to=closed["id"])


async def test_idempotency_key(client: Client, services: Services) -> None:
    user, other = await make_user(client), await make_user(client)
    headers = {**user.auth, "Idempotency-Key": "abc-123"}
    first = await client.post("/api/posts", json={"text": "once"}, headers=headers)
    again = await client.post("/api/posts", json={"text": "once"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    first_body, again_body = await first.get_json(), await again.get_json()
    assert first_body["id"] == again_body["id"]
    other_key = await client.post(
        "/api/posts", json={"text": "once"}, headers={**user.auth, "Idempotency-Key": "abc-124"}
    )
    other_user = await client.post(
        "/api/posts", json={"text": "once"}, headers={**other.auth, "Idempotency-Key": "abc-123"}
    )
    ids = {(await r.get_json())["id"] for r in (first, other_key, other_user)}
    assert len(ids) == 3
    async with services.pool.acquire() as conn:
        count = await conn.fetchval(
            "SELECT count(*) FROM posts WHERE account_id = $1", int(user.id)
        )
    assert count == 2
    status, me = await get_json(client, f"/api/accounts/{user.id}")
    assert me["posts_count"] == 2
    # Concurrent retries race for the key: one post, every answer the same.
    racing = {**other.auth, "Idempotency-Key": "race"}
    answers = await asyncio.gather(
        *(client.post("/api/posts", json={"text": "race"}, headers=racing) for _ in range(4))
    )
    assert {r.status_code for r in answers} == {201}
    assert len({(await r.get_json())["id"] for r in answers}) == 1
    async with services.pool.acquire() as conn:
        count = await conn.fetchval(
            "SELECT count(*) FROM posts WHERE account_id = $1 AND source = 'race'", int(other.id)
        )
    assert count == 1
    bad = await client.post(
        "/api/posts", json={"text": "x"}, headers={**user.auth, "Idempotency-Key": "k" * 256}
    )
    assert bad.status_code == 400
    assert (await bad.get_json())["detail"]["field"] == "Idempotency-Key"


async def test_edit_keeps_history(client: Client, services: Services) -> None:
    alice, bob, carol = [await make_user(client) for _ in range(3)]
    body = await post(client, alice, f"hello @{bob.handle} #old", tags=["kept"])
    assert body["edited_at"] is None
    response = await client.patch(
        f"/api/posts/{body['id']}",
        json={"text": f"hello @{carol.handle} #new", "summary": "cw"},
        headers=alice.auth,
    )
    assert response.status_code == 200, await response.get_json()
    edited = await response.get_json()
    assert edited["edited_at"] is not None and edited["text"].endswith("#new")
    assert edited["sensitive"] is True and edited["summary"] == "cw"
    assert [m["id"] for m in edited["mentions"]] == [carol.id]
    assert edited["tags"] == ["new", "kept"]
    assert f"/@{carol.handle}" in edited["html"] and f"/@{bob.handle}" not in edited["html"]
    async with services.pool.acquire() as conn:
        history = await conn.fetch(
            "SELECT source, summary FROM post_edits WHERE post_id = $1", int(body["id"])
        )
        tags = await conn.fetch("SELECT tag FROM post_tags WHERE post_id = $1", int(body["id"]))
    assert [tuple(r) for r in history] == [(body["text"], "")]
    assert {r["tag"] for r in tags} == {"new", "kept"}
    assert await events_for(services, "post.updated", body["id"])

    not_mine = await client.patch(
        f"/api/posts/{body['id']}", json={"text": "mine now"}, headers=bob.auth
    )
    assert not_mine.status_code == 404
    null = await client.patch(f"/api/posts/{body['id']}", json={"text": None}, headers=alice.auth)
    assert null.status_code == 400 and (await null.get_json())["detail"]["field"] == "text"
    missing = await client.patch("/api/posts/123", json={"text": "x"}, headers=alice.auth)
    assert missing.status_code == 404


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
