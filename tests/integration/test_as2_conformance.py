"""ActivityStreams 2.0 conformance (issue 14): no empty arrays in what we serve, `object`
and `type` given as lists at the inbox; and the plain text every remote post keeps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from quart.typing import TestClientProtocol as Client

from stgy.config import Config
from stgy.services import Services
from storage import follows as follows_sql
from tests.conftest import make_user
from tests.integration.test_inbox import (
    activity_of,
    make_remote,
    note_of,
    post_activity,
    post_row,
    stored,
)
from tests.integration.test_outbox import drain

AP = {"Accept": "application/activity+json"}
MIGRATION = Path(__file__).resolve().parents[2] / "migrations" / "0017_remote_post_text.sql"


def no_empty_arrays(value: Any, where: str = "$") -> None:
    """AS2 Core 4.1: an empty array is omitted, never served as []."""
    if isinstance(value, list):
        assert value, f"empty array at {where}"
        for index, item in enumerate(value):
            no_empty_arrays(item, f"{where}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            no_empty_arrays(item, f"{where}.{key}")


async def get_document(client: Client, path: str) -> dict[str, Any]:
    response = await client.get(path, headers=AP)
    assert response.status_code == 200, path
    found: dict[str, Any] = await response.get_json()
    return found


async def test_our_documents_serve_no_empty_arrays(client: Client) -> None:
    alice = await make_user(client)
    posted = await client.post("/api/posts", json={"text": "plain words"}, headers=alice.auth)
    assert posted.status_code == 201
    post = await posted.get_json()
    actor = await get_document(client, f"/users/{alice.handle}")
    assert "tag" not in actor and "attachment" not in actor
    note = await get_document(client, f"/users/{alice.handle}/posts/{post['id']}")
    assert "tag" not in note and "attachment" not in note
    featured = await get_document(client, f"/users/{alice.handle}/collections/featured")
    assert featured["totalItems"] == 0 and "orderedItems" not in featured
    followers = await get_document(client, f"/users/{alice.handle}/followers?page=true")
    assert followers["type"] == "OrderedCollectionPage" and "orderedItems" not in followers
    assert followers["partOf"].endswith("/followers")
    for document in (actor, note, featured, followers):
        no_empty_arrays(document)
    # With fields, they are there.
    changed = await client.patch(
        "/api/accounts/me",
        json={"fields": [{"name": "Site", "value": "https://alice.example"}]},
        headers=alice.auth,
    )
    assert changed.status_code == 200
    actor = await get_document(client, f"/users/{alice.handle}")
    assert actor["attachment"][0]["type"] == "PropertyValue"


async def _followed_remote(client: Client, services: Services) -> Any:
    user = await make_user(client)
    remote = await make_remote(services)
    async with services.pool.acquire() as conn:
        await follows_sql.insert_follow(
            conn, follower_id=int(user.id), followee_id=remote.account_id, state="accepted"
        )
    return remote


async def test_an_object_list_on_the_actors_host_is_taken_first_object_applied(
    client: Client, config: Config, services: Services
) -> None:
    remote = await _followed_remote(client, services)
    first, second = note_of(remote, "first of two"), note_of(remote, "second of two")
    create = activity_of(remote, "Create", [first, second])
    assert await post_activity(client, config, remote, create) == 202
    await drain(services)
    assert (await stored(services, create))["error"] is None
    assert (await post_row(services, first["id"])) is not None
    assert (await post_row(services, second["id"])) is None
    # Each object of the list is checked: one of another host's is refused, for that reason.
    other = await make_remote(services)
    forged = activity_of(remote, "Create", [note_of(remote, "mine"), note_of(other, "theirs")])
    assert await post_activity(client, config, remote, forged) == 403
    assert await stored(services, forged) is None
    empty = activity_of(remote, "Create", [])
    assert await post_activity(client, config, remote, empty) == 400


async def test_a_type_list_is_read_for_the_first_type_we_know(
    client: Client, config: Config, services: Services
) -> None:
    remote = await _followed_remote(client, services)
    note = note_of(remote, "typed twice", type=["Note", "ex:Thing"])
    create = activity_of(remote, "Create", note)
    create["type"] = ["Create", "ex:Thing"]
    assert await post_activity(client, config, remote, create) == 202
    await drain(services)
    row = await stored(services, create)
    assert row["error"] is None
    async with services.pool.acquire() as conn:
        kind = await conn.fetchval("SELECT type FROM inbox_activities WHERE id = $1", row["id"])
    assert kind == "Create"
    assert (await post_row(services, note["id"])) is not None
    nothing = activity_of(remote, "Create", note_of(remote, "untyped"))
    nothing["type"] = [1, 2]
    assert await post_activity(client, config, remote, nothing) == 400


async def _text(services: Services, ap_id: str) -> str:
    async with services.pool.acquire() as conn:
        found: str = await conn.fetchval("SELECT source FROM posts WHERE ap_id = $1", ap_id)
    return found


async def test_remote_posts_keep_a_plain_text(
    client: Client, config: Config, services: Services
) -> None:
    remote = await _followed_remote(client, services)
    from_html = note_of(remote, "Tea &amp; <b>cake</b><br>at five")
    from_html["content"] += "<ul><li>one</li><li>two</li></ul>"
    markdown = note_of(
        remote,
        "rendered",
        source={"content": "Ramen **tonight** #food", "mediaType": "text/markdown"},
    )
    unknown = note_of(remote, "from <i>html</i>", source={"content": "x", "mediaType": "x/y"})
    for note in (from_html, markdown, unknown):
        create = activity_of(remote, "Create", note)
        assert await post_activity(client, config, remote, create) == 202
    await drain(services)
    assert await _text(services, from_html["id"]) == "Tea & cake\nat five\n\none\ntwo"
    assert await _text(services, markdown["id"]) == "Ramen **tonight** #food"
    assert await _text(services, unknown["id"]) == "from html"
    # The API shows it as the post's text, and search finds the post by its words.
    row = await post_row(services, from_html["id"])
    viewer = await make_user(client)
    shown = await (await client.get(f"/api/posts/{row['id']}", headers=viewer.auth)).get_json()
    assert shown.get("post", shown)["text"] == "Tea & cake\nat five\n\none\ntwo"
    async with services.pool.acquire() as conn:
        found = await conn.fetchval(
            "SELECT count(*) FROM posts WHERE ap_id = $1"
            " AND search @@ websearch_to_tsquery('simple', 'cake')",
            from_html["id"],
        )
    assert found == 1
    # An Update replaces the text with the content.
    edited = {**from_html, "content": "<p>Coffee instead</p>"}
    update = activity_of(remote, "Update", edited)
    assert await post_activity(client, config, remote, update) == 202
    await drain(services)
    assert await _text(services, from_html["id"]) == "Coffee instead"


async def test_migration_0017_fills_the_text_of_remote_posts_stored_before(
    client: Client, config: Config, services: Services
) -> None:
    remote = await _followed_remote(client, services)
    note = note_of(remote, "It&#39;s &lt;3 &amp; more")
    note["content"] += "<p>line one<br>line <a href='https://x.example/'>two</a></p>"
    assert await post_activity(client, config, remote, activity_of(remote, "Create", note)) == 202
    await drain(services)
    async with services.pool.acquire() as conn:
        await conn.execute("UPDATE posts SET source = '' WHERE ap_id = $1", note["id"])
        await conn.execute(MIGRATION.read_text())
    assert await _text(services, note["id"]) == "It's <3 & more\n\nline one\nline two"
