"""Search through the HTTP API: accounts, tags and public posts."""

from __future__ import annotations

import secrets
from typing import Any

from quart.typing import TestClientProtocol as Client

from tests.conftest import User, make_user
from tests.integration.test_notifications import act, create_post


async def search(client: Client, user: User | None = None, **params: Any) -> dict[str, Any]:
    headers = user.auth if user else {}
    response = await client.get("/api/search", query_string=params, headers=headers)
    assert response.status_code == 200, await response.get_data(as_text=True)
    body: dict[str, Any] = await response.get_json()
    return body


def word() -> str:
    """A word no other test uses."""
    return "w" + secrets.token_hex(6)


async def test_accounts_by_handle_prefix_and_display_name(client: Client) -> None:
    stem = "srch" + secrets.token_hex(3)
    ada = await make_user(client, f"{stem}_ada", display_name="Countess Lovelace")
    bob = await make_user(client, f"{stem}_bob", display_name="Robert Tables")
    await make_user(client, f"x{stem}_carol")  # contains the stem, does not start with it

    found = await search(client, q=stem, type="accounts")
    assert {a["id"] for a in found["accounts"]} == {ada.id, bob.id}
    assert found["tags"] == [] and found["posts"] == []
    # Case-insensitive, and the @ of a handle is optional.
    upper = await search(client, q=f"@{stem.upper()}_A", type="accounts")
    assert [a["id"] for a in upper["accounts"]] == [ada.id]
    # A display name matches from the start of any of its words.
    assert bob.id in {a["id"] for a in (await search(client, q="tables"))["accounts"]}
    named = await search(client, q="lovelace", type="accounts")
    assert ada.id in {a["id"] for a in named["accounts"]}
    # Wildcards are text: an underscore does not match any character.
    assert (await search(client, q=f"{stem}%", type="accounts"))["accounts"] == []

    # user@host matches that account exactly; this instance's domain means local.
    exact = await search(client, q=f"@{ada.handle}@localhost:8000", type="accounts")
    assert [a["id"] for a in exact["accounts"]] == [ada.id]
    assert (await search(client, q=f"{stem}_ad@localhost:8000"))["accounts"] == []
    assert (await search(client, q=f"{ada.handle}@elsewhere.example"))["accounts"] == []


async def test_deleted_accounts_are_not_found(client: Client) -> None:
    stem = "gone" + secrets.token_hex(3)
    user = await make_user(client, f"{stem}_x")
    assert len((await search(client, q=stem))["accounts"]) == 1
    response = await client.delete(
        "/api/accounts/me", json={"password": user.password}, headers=user.auth
    )
    assert response.status_code == 204
    assert (await search(client, q=stem))["accounts"] == []


async def test_tags_by_prefix(client: Client) -> None:
    alice = await make_user(client)
    stem = word()
    await create_post(client, alice, f"tagged #{stem}Alpha and #{stem}beta")
    found = await search(client, q=f"#{stem}", type="tags")
    assert sorted(t["name"] for t in found["tags"]) == [f"{stem}alpha", f"{stem}beta"]
    assert found["tags"][0]["url"] == f"http://localhost:8000/tags/{found['tags'][0]['name']}"
    exact = await search(client, q=f"{stem}BETA", type="tags")
    assert [t["name"] for t in exact["tags"]] == [f"{stem}beta"]
    assert (await search(client, q=f"{stem}gamma", type="tags"))["tags"] == []


async def test_posts_by_words_public_and_visible_only(client: Client) -> None:
    alice, bob, carol = [await make_user(client) for _ in range(3)]
    await act(client, bob, "PUT", f"/api/accounts/{alice.id}/follow")
    a, b = word(), word()
    older = await create_post(client, alice, f"first {a} of all")
    newer = await create_post(client, alice, f"then {a} and {b}")
    await create_post(client, alice, f"for followers {a} {b}", visibility="followers")
    await create_post(client, alice, f"quietly {a} {b}", visibility="unlisted")
    await create_post(client, alice, f"only you {a} {b}", visibility="direct")
    gone = await create_post(client, alice, f"regret {a} {b}")
    await act(client, alice, "DELETE", f"/api/posts/{gone['id']}")
    # A share is no second hit for the same words.
    await act(client, carol, "PUT", f"/api/posts/{older['id']}/share")

    # Without login too; newest first; the follower sees no more than anyone else.
    for viewer in (None, bob, carol):
        found = await search(client, viewer, q=a, type="posts")
        assert [p["id"] for p in found["posts"]] == [newer["id"], older["id"]]
        assert found["accounts"] == [] and found["tags"] == []
    both = await search(client, bob, q=f"{a} {b}", type="posts")
    assert [p["id"] for p in both["posts"]] == [newer["id"]]
    assert both["posts"][0]["liked"] is False
    phrase = await search(client, q=f'"{b} {a}"', type="posts")
    assert phrase["posts"] == []
    excluded = await search(client, q=f"{a} -{b}", type="posts")
    assert [p["id"] for p in excluded["posts"]] == [older["id"]]
    limited = await search(client, q=a, type="posts", limit=1)
    assert [p["id"] for p in limited["posts"]] == [newer["id"]]
    rest = await search(client, q=a, type="posts", until=newer["id"])
    assert [p["id"] for p in rest["posts"]] == [older["id"]]

    # Blocking hides the blocked account's posts from the one who blocked.
    await act(client, carol, "PUT", f"/api/accounts/{alice.id}/block")
    assert (await search(client, carol, q=a, type="posts"))["posts"] == []


async def test_all_kinds_at_once(client: Client) -> None:
    stem = word()
    user = await make_user(client, stem)
    post = await create_post(client, user, f"about #{stem} and {stem}")
    found = await search(client, q=stem)
    assert [a["id"] for a in found["accounts"]] == [user.id]
    assert [t["name"] for t in found["tags"]] == [stem]
    assert [p["id"] for p in found["posts"]] == [post["id"]]


async def test_query_checked(client: Client) -> None:
    for params, field in (
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "x" * 201}, "q"),
        ({"q": "a\x00b"}, "q"),
        ({"q": "x", "type": "statuses"}, "type"),
        ({"q": "x", "limit": "0"}, "limit"),
        ({"q": "x", "limit": "41"}, "limit"),
        ({"q": "x", "until": "-1"}, "until"),
        ({"q": "x", "page": "2"}, "page"),
    ):
        response = await client.get("/api/search", query_string=params)
        assert response.status_code == 400, params
        assert (await response.get_json())["detail"]["field"] == field, params
    # Punctuation alone, or web-search operators alone, find nothing but are fine.
    for q in ("!!!", '"', "-", "@", "#", "@@", "%_\\"):
        assert (await search(client, q=q))["posts"] == [], q
    assert (await search(client, q="x" * 200))["posts"] == []
