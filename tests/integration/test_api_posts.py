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
        f' rel="nofollow noopener noreferrer ugc">@<span>{alice.handle}</span></a></span>'
    ) in html
    assert "@nobody_known_here" in html and "nobody_known_here</a>" not in html
    assert f"<code>@{alice.handle}</code>" in html
    assert f'href="{BASE}/tags/stgy" class="mention hashtag"' in html
    assert 'rel="nofollow noopener noreferrer ugc tag"' in html and "#123" in html
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
        ({"text": "x", "media_ids": ["1"]}, "media_ids.0"),
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
