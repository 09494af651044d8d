"""Timeline pages from renderings (in each process's memory and stored): what a cached
page shows is what the serializer makes, and every change shows at once, in every
process (the worker's jobs then drop stale renderings)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from quart.typing import TestClientProtocol as Client

from stgy.api.serializers import post_json
from stgy.config import Config
from stgy.domain import admin
from stgy.services import Services
from storage import posts as posts_sql
from tests.conftest import User, make_user, serving
from tests.integration.test_outbox import drain
from tests.integration.timeline_support import create_post, follow


async def page_bytes(client: Client, user: User, path: str = "/api/timelines/home") -> bytes:
    response = await client.get(path, headers=user.auth)
    assert response.status_code == 200, await response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return await response.get_data()


async def home_posts(client: Client, user: User) -> list[dict[str, Any]]:
    """The posts on the user's home page (none for 204)."""
    response = await client.get("/api/timelines/home", headers=user.auth)
    if response.status_code == 204:
        return []
    posts: list[dict[str, Any]] = orjson.loads(await page_bytes(client, user))["posts"]
    return posts


async def post_on_home(client: Client, user: User, post_id: int) -> dict[str, Any]:
    found = [p for p in await home_posts(client, user) if p["id"] == str(post_id)]
    assert len(found) == 1
    return found[0]


async def rendered(services: Services, post_id: int, account_id: int) -> tuple[bool, bool]:
    """Whether the post's and the account's renderings are stored."""
    async with services.pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT EXISTS (SELECT 1 FROM post_renderings WHERE post_id = $1),"
            " EXISTS (SELECT 1 FROM account_renderings WHERE account_id = $2)",
            post_id,
            account_id,
        )
    assert row is not None
    return row[0], row[1]


async def drop_renderings(services: Services) -> None:
    async with services.pool.acquire() as conn:
        await conn.execute("TRUNCATE post_renderings, account_renderings")


async def test_cached_page_is_byte_for_byte_the_serializers(
    client: Client, services: Services
) -> None:
    reader, author, other = [await make_user(client) for _ in range(3)]
    await follow(client, reader, author)
    await drain(services)
    original = await create_post(client, services, other, "an original with #cats")
    mention = await create_post(client, services, author, "hello", mentions=[reader])
    share = await create_post(client, services, author, share_of=original)
    await drain(services)
    for path in (f"/api/posts/{mention}/like", f"/api/posts/{original}/bookmark"):
        assert (await client.put(path, headers=reader.auth)).status_code == 200
    await create_post(client, services, reader, share_of=original)

    await drop_renderings(services)
    miss = await page_bytes(client, reader)
    assert await rendered(services, mention, int(author.id)) == (True, True)
    hit = await page_bytes(client, reader)
    assert hit == miss

    # What the serializer makes of the same posts for the same viewer, in the same bytes.
    page = orjson.loads(hit)
    ids = [int(p["id"]) for p in page["posts"]]
    assert share in ids and mention in ids
    async with services.pool.acquire() as conn:
        views = await posts_sql.load_views(conn, post_ids=ids, viewer_id=int(reader.id))
    expected = b",".join(orjson.dumps(post_json(views[i])) for i in ids)
    assert hit == b'{"posts":[' + expected + b'],"newest":"%d","oldest":"%d"}' % (ids[0], ids[-1])
    shared = next(p for p in page["posts"] if p["id"] == str(share))["share_of"]
    assert (shared["id"], shared["bookmarked"], shared["shared"]) == (str(original), True, True)

    # The public timelines are made the same way, for nobody as for a viewer.
    anonymous = await client.get("/api/timelines/local")
    local = orjson.loads(await anonymous.get_data())["posts"]
    assert all(p["liked"] is None for p in local)
    assert any(p["id"] == str(original) for p in local)


async def test_edit_and_delete_show_at_once(client: Client, services: Services) -> None:
    reader, author = await make_user(client), await make_user(client)
    await follow(client, reader, author)
    await drain(services)
    post_id = await create_post(client, services, author, "before")
    await drain(services)
    assert (await post_on_home(client, reader, post_id))["text"] == "before"

    response = await client.patch(
        f"/api/posts/{post_id}", json={"text": "after"}, headers=author.auth
    )
    assert response.status_code == 200
    # The stored rendering is of another version now: the page renders the post anew.
    edited = await post_on_home(client, reader, post_id)
    assert (edited["text"], edited["edited_at"] is not None) == ("after", True)
    await drain(services)  # post.updated drops the rendering; the next page stores one
    assert (await rendered(services, post_id, int(author.id)))[0] is False
    assert await post_on_home(client, reader, post_id) == edited

    assert (await client.delete(f"/api/posts/{post_id}", headers=author.auth)).status_code == 200
    assert str(post_id) not in [p["id"] for p in await home_posts(client, reader)]
    await drain(services)
    assert (await rendered(services, post_id, int(author.id)))[0] is False


async def test_profile_change_shows_at_once_also_in_mentions(
    client: Client, services: Services
) -> None:
    reader, author = await make_user(client), await make_user(client)
    await follow(client, reader, author)
    await drain(services)
    own = await create_post(client, services, author, "mine")
    mentioning = await create_post(client, services, reader, "hi", mentions=[author])
    await drain(services)
    before = await post_on_home(client, reader, mentioning)
    assert before["mentions"][0]["handle"] == author.handle

    new_handle = author.handle + "x"
    response = await client.patch(
        "/api/accounts/me",
        json={"display_name": "New Name", "handle": new_handle},
        headers=author.auth,
    )
    assert response.status_code == 200
    shown = (await post_on_home(client, reader, own))["account"]
    assert (shown["display_name"], shown["handle"]) == ("New Name", new_handle)
    await drain(services)  # account.updated drops the posts that mention the account
    after = await post_on_home(client, reader, mentioning)
    assert after["mentions"][0]["handle"] == new_handle
    assert after["mentions"][0]["acct"] == new_handle


async def test_counts_and_viewer_state_are_live(client: Client, services: Services) -> None:
    reader, author, friend = [await make_user(client) for _ in range(3)]
    for who in (reader, friend):
        await follow(client, who, author)
    await drain(services)
    post_id = await create_post(client, services, author, "like me")
    await drain(services)
    assert (await post_on_home(client, reader, post_id))["likes_count"] == 0

    assert (await client.put(f"/api/posts/{post_id}/like", headers=reader.auth)).status_code == 200
    mine = await post_on_home(client, reader, post_id)
    theirs = await post_on_home(client, friend, post_id)
    assert (mine["liked"], mine["likes_count"]) == (True, 1)
    assert (theirs["liked"], theirs["likes_count"]) == (False, 1)

    response = await client.put(f"/api/posts/{post_id}/share", headers=friend.auth)
    assert response.status_code == 200
    theirs = await post_on_home(client, friend, post_id)
    assert (theirs["shared"], theirs["shares_count"]) == (True, 1)
    assert (await post_on_home(client, reader, post_id))["shared"] is False
    followers = (await post_on_home(client, reader, post_id))["account"]["followers_count"]
    assert followers == 2

    for path in (f"/api/posts/{post_id}/share", f"/api/posts/{post_id}/like"):
        who = friend if path.endswith("share") else reader
        assert (await client.delete(path, headers=who.auth)).status_code == 200
    mine = await post_on_home(client, reader, post_id)
    assert (mine["liked"], mine["likes_count"], mine["shares_count"]) == (False, 0, 0)


async def test_suspended_and_deleted_authors_leave_at_once(
    client: Client, services: Services
) -> None:
    reader, author, gone = [await make_user(client) for _ in range(3)]
    for who in (author, gone):
        await follow(client, reader, who)
    await drain(services)
    kept = await create_post(client, services, author, "stays")
    removed = await create_post(client, services, gone, "goes")
    await drain(services)
    assert {str(kept), str(removed)} <= {p["id"] for p in await home_posts(client, reader)}

    await admin.set_suspended(services, author.handle, suspended=True)
    assert str(kept) not in {p["id"] for p in await home_posts(client, reader)}
    await admin.set_suspended(services, author.handle, suspended=False)
    assert (await post_on_home(client, reader, kept))["text"] == "stays"

    response = await client.delete(
        "/api/accounts/me", json={"password": gone.password}, headers=gone.auth
    )
    assert response.status_code in (200, 204), await response.get_data(as_text=True)
    assert str(removed) not in {p["id"] for p in await home_posts(client, reader)}
    await drain(services)  # account.deleted drops its profile and posts
    assert await rendered(services, removed, int(gone.id)) == (False, False)


async def test_reset_cache_empties_the_renderings(client: Client, services: Services) -> None:
    reader, author = await make_user(client), await make_user(client)
    await follow(client, reader, author)
    await drain(services)
    post_id = await create_post(client, services, author, "cached")
    await drain(services)
    before = await page_bytes(client, reader)
    assert await rendered(services, post_id, int(author.id)) == (True, True)
    assert await admin.reset_cache(services) >= 2
    assert await rendered(services, post_id, int(author.id)) == (False, False)
    assert await page_bytes(client, reader) == before


async def test_logout_ends_a_token_already_checked(client: Client) -> None:
    user = await make_user(client)
    # The first request checks the token's signature, the later ones reuse that check.
    for _ in range(2):
        response = await client.get("/api/timelines/home", headers=user.auth)
        assert response.status_code == 204
    assert (await client.post("/api/auth/logout", headers=user.auth)).status_code == 204
    assert (await client.get("/api/timelines/home", headers=user.auth)).status_code == 401


async def reader_of(client: Client, services: Services) -> tuple[User, User, User]:
    """A reader following an author, and a third account."""
    reader, author, third = [await make_user(client) for _ in range(3)]
    await follow(client, reader, author)
    await drain(services)
    return reader, author, third


@pytest.fixture
async def other_client(config: Config) -> AsyncIterator[Client]:
    """A second app on the same database: another process, with its own memory."""
    async with serving(config) as application:
        yield application.test_client()


async def test_each_process_follows_changes_made_in_another(
    client: Client, other_client: Client, services: Services
) -> None:
    reader, author, mentioned = await reader_of(client, services)
    post_id = await create_post(client, services, author, "first", mentions=[mentioned])
    await drain(services)
    both = (client, other_client)
    first = [await page_bytes(c, reader) for c in both]
    assert first[0] == first[1]

    # Each app serves from its memory: with the stored renderings gone, the same bytes,
    # and nothing stored again.
    await drop_renderings(services)
    assert [await page_bytes(c, reader) for c in both] == first
    assert await rendered(services, post_id, int(author.id)) == (False, False)

    # An edit made through one app shows in the other, whose copy is of the old version.
    response = await client.patch(
        f"/api/posts/{post_id}", json={"text": f"@{mentioned.handle} second"}, headers=author.auth
    )
    assert response.status_code == 200
    for c in both:
        assert (await post_on_home(c, reader, post_id))["text"].endswith(" second")

    # A new handle of a mentioned account does not change the post's version: the job
    # gives the post a new render_rev, and both apps render it anew.
    response = await other_client.patch(
        "/api/accounts/me", json={"handle": mentioned.handle + "y"}, headers=mentioned.auth
    )
    assert response.status_code == 200
    await drain(services)
    for c in both:
        shown = await post_on_home(c, reader, post_id)
        assert shown["mentions"][0]["handle"] == mentioned.handle + "y"

    # Live fields come with each page, whichever app changed them.
    assert (
        await other_client.put(f"/api/posts/{post_id}/like", headers=reader.auth)
    ).status_code == 200
    for c in both:
        shown = await post_on_home(c, reader, post_id)
        assert (shown["liked"], shown["likes_count"]) == (True, 1)
    pages = [await page_bytes(c, reader) for c in both]
    assert pages[0] == pages[1]


async def test_pages_are_whole_with_no_renderings_kept_in_memory(
    client: Client, config: Config, services: Services
) -> None:
    reader, author, other = await reader_of(client, services)
    original = await create_post(client, services, other, "the original")
    for i in range(3):
        await create_post(client, services, author, f"post {i}")
    await create_post(client, services, author, share_of=original)
    await drain(services)
    expected = await page_bytes(client, reader)
    assert len(orjson.loads(expected)["posts"]) == 4
    async with serving(config.replace("server", rendering_cache_mb=0)) as app:
        bare = app.test_client()
        # Rendered anew (the stored ones dropped), then read from the stored ones.
        await drop_renderings(services)
        assert await page_bytes(bare, reader) == expected
        assert await page_bytes(bare, reader) == expected
        assert await page_bytes(bare, reader, "/api/timelines/local") == await page_bytes(
            client, reader, "/api/timelines/local"
        )
