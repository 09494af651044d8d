"""Timeline jobs (idempotent fan-out, batches, trim with on-read pages), query counts,
and the public, local and tag timelines."""

from __future__ import annotations

import dataclasses
import secrets
from typing import Any

import asyncpg
import orjson
import pytest
from quart.typing import TestClientProtocol as Client

from stgy.api.serializers import PAGE_RENDERER
from stgy.domain import auth, fanout, follows, timelines
from stgy.services import Services
from storage.outbox import OutboxEvent, get_event
from tests.conftest import User, make_user
from tests.integration.test_outbox import drain
from tests.integration.timeline_support import (
    create_post,
    delete_post,
    entries,
    follow,
    home,
    remote_account,
)


async def test_fan_out_twice_leaves_the_same_rows(client: Client, services: Services) -> None:
    author = await make_user(client)
    readers = [await make_user(client) for _ in range(4)]
    for reader in readers:
        await follow(client, reader, author)
    await client.put(f"/api/accounts/{author.id}/mute", headers=readers[0].auth)
    await client.put(f"/api/accounts/{readers[1].id}/block", headers=author.auth)
    await drain(services)
    post_id = await create_post(client, services, author)
    await drain(services)

    async def rows() -> list[tuple[int, int, int]]:
        async with services.pool.acquire() as conn:
            found = await conn.fetch(
                "SELECT owner_id, post_id, author_id FROM timeline_entries WHERE post_id = $1"
                " ORDER BY owner_id",
                post_id,
            )
        return [tuple(r) for r in found]

    first = await rows()
    # The muting reader and the blocked one get nothing; the author's own entry stays.
    assert {r[0] for r in first} == {int(author.id), int(readers[2].id), int(readers[3].id)}
    event = await _event_for(services, "post.created", post_id)
    async with services.pool.acquire() as conn:
        for _ in range(2):
            async with conn.transaction():
                await fanout.fan_out_post(conn, event, services)
    assert await rows() == first


async def _event_for(services: Services, kind: str, post_id: int) -> OutboxEvent:
    async with services.pool.acquire() as conn:
        event_id = await conn.fetchval(
            "SELECT id FROM outbox_events WHERE kind = $1 AND payload->>'post_id' = $2",
            kind,
            str(post_id),
        )
        event = await get_event(conn, event_id=event_id)
    assert event is not None
    return event


async def test_fan_out_in_batches_reaches_every_follower(
    client: Client, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fanout, "FAN_OUT_BATCH", 2)
    author = await make_user(client)
    readers = [await make_user(client) for _ in range(5)]
    for reader in readers:
        await follow(client, reader, author)
    await drain(services)
    post_id = await create_post(client, services, author)
    await drain(services)
    for reader in readers:
        assert post_id in await entries(services, reader)


# ---- trimming and pages computed on read


async def test_trim_keeps_the_newest_and_older_pages_are_computed_on_read(
    client: Client, services: Services
) -> None:
    a, b, c, muted = [await make_user(client) for _ in range(4)]
    for followee in (b, c, muted):
        await follow(client, a, followee)
    await drain(services)
    muted_post = await create_post(client, services, muted, "shh")
    posts = []
    for i in range(12):
        posts.append(await create_post(client, services, b if i % 2 else c, f"post {i}"))
    posts.append(await create_post(client, services, a, "my own"))
    await drain(services)
    assert muted_post in await entries(services, a)
    await client.put(f"/api/accounts/{muted.id}/mute", headers=a.auth)
    everything = [str(p) for p in sorted(posts, reverse=True)]
    assert await home(client, a) == everything

    deleted = await timelines.trim_home_timelines(services, keep=4)
    assert deleted > 0
    kept = await entries(services, a)
    assert kept == sorted(posts, reverse=True)[:4]

    # Page by page past the stored entries: same posts, same order, none twice, and the
    # on-read part applies the same filters (the muted account's post stays hidden).
    seen: list[str] = []
    until: str | None = None
    while True:
        params: dict[str, object] = {"limit": 3}
        if until:
            params["until"] = until
        page = await home(client, a, **params)
        if not page:
            break
        seen += page
        until = page[-1]
    assert seen == everything
    assert await home(client, a, limit=100) == everything
    assert await home(client, a, since=everything[-3]) == everything[:-3]

    # A deleted post is gone from the computed part too.
    await delete_post(client, c, posts[0])
    assert str(posts[0]) not in await home(client, a)


async def test_home_min_id_pages_up_through_trimmed_entries(
    client: Client, services: Services
) -> None:
    """Ascending pages (Mastodon's min_id) below the stored entries are computed on read,
    and a page across the oldest stored entry joins both parts in order."""
    reader, author = await make_user(client), await make_user(client)
    await follow(client, reader, author)
    await drain(services)
    posts = [await create_post(client, services, author, f"up {i}") for i in range(8)]
    await drain(services)
    await timelines.trim_home_timelines(services, keep=3)
    assert await entries(services, reader) == posts[:4:-1]
    _, session_id = auth.token_claims(services, await auth.token_key(services), reader.token)

    async def up(since: int, limit: int) -> list[int]:
        rendered = await timelines.home(
            services,
            PAGE_RENDERER,
            int(reader.id),
            session_id,
            since=since,
            until=None,
            limit=limit,
            ascending=True,
        )
        return [int(p["id"]) for p in orjson.loads(b"[" + rendered.body + b"]")]

    assert await up(posts[0], 2) == [posts[2], posts[1]]  # computed on read only
    assert await up(posts[3], 3) == [posts[6], posts[5], posts[4]]  # posts[4] computed
    assert await up(posts[5], 5) == [posts[7], posts[6]]  # stored only
    assert await up(posts[7], 5) == []


async def test_home_page_takes_a_constant_number_of_statements(
    client: Client, services: Services
) -> None:
    reader = await make_user(client)
    # Accounts without logins are enough for authors (and much faster to make).
    async with services.pool.acquire() as conn:
        authors = await conn.fetchval(
            "WITH made AS (INSERT INTO accounts (handle, ap_id)"
            " SELECT 'author_' || $1 || '_' || n, 'https://local.test/' || $1 || '/' || n"
            " FROM generate_series(1, 50) n RETURNING id) SELECT array_agg(id) FROM made",
            secrets.token_hex(4),
        )
    for author in authors:
        assert await follows.follow(services, int(reader.id), author) == "accepted"
    await drain(services)
    posts = []
    for i in range(100):
        author = authors[i % 50]
        if i % 10 == 9:
            posts.append(await create_post(client, services, author, "", share_of=posts[i - 5]))
        else:
            mentions = [authors[(i + 1) % 50]] if i % 3 == 0 else []
            posts.append(
                await create_post(client, services, author, f"post {i}", mentions=mentions)
            )
    await drain(services)

    statements: list[str] = []

    async def log_queries(conn: asyncpg.Connection) -> None:
        conn.add_query_logger(lambda record: statements.append(record.query))

    async def no_reset(conn: asyncpg.Connection) -> None:
        return None

    pool = await asyncpg.create_pool(
        services.config.database.url, min_size=1, max_size=1, init=log_queries, reset=no_reset
    )
    assert pool is not None
    try:
        counted = dataclasses.replace(services, pool=pool)
        _, session_id = auth.token_claims(services, await auth.token_key(services), reader.token)

        async def page() -> list[dict[str, Any]]:
            rendered = await timelines.home(
                counted,
                PAGE_RENDERER,
                int(reader.id),
                session_id,
                since=None,
                until=None,
                limit=100,
            )
            posts: list[dict[str, Any]] = orjson.loads(b"[" + rendered.body + b"]")
            return posts

        # A first run lets asyncpg introspect the types once per connection.
        await page()
        # With no renderings anywhere: the page, the stored renderings (none), the posts
        # loaded once for all, and the renderings stored at once.
        async with pool.acquire() as conn:
            await conn.execute("TRUNCATE post_renderings, account_renderings")
        services.renderings.clear()
        statements.clear()
        cold = await page()
        assert len(statements) == 4
        # A process that starts afresh reads what another stored: one more statement.
        services.renderings.clear()
        statements.clear()
        assert await page() == cold
        assert len(statements) == 2
        statements.clear()
        warm = await page()
        assert warm == cold
        assert [int(p["id"]) for p in warm] == sorted(posts, reverse=True)
        # One statement: the login check, the page's posts and their live fields.
        assert len(statements) == 1
        shares = [p for p in warm if p["share_of"] is not None]
        assert len(shares) == 10 and all(p["share_of"]["account"]["id"] for p in shares)
        assert sum(1 for p in warm if p["mentions"]) == 30

        # Past the stored entries: the on-read part adds a fixed two statements.
        async with pool.acquire() as conn:
            await conn.execute("DELETE FROM timeline_entries WHERE owner_id = $1", int(reader.id))
        statements.clear()
        assert await page() == warm
        assert len(statements) <= 4
    finally:
        await pool.close()


# ---- public, local and tag timelines


async def test_public_local_and_tag_timelines(client: Client, services: Services) -> None:
    alice, viewer = await make_user(client), await make_user(client)
    tag = f"t{secrets.token_hex(4)}"
    public = await create_post(client, services, alice, "hello #tag", tags=[tag])
    unlisted = await create_post(client, services, alice, visibility="unlisted", tags=[tag])
    followers_only = await create_post(client, services, alice, visibility="followers", tags=[tag])
    share = await create_post(client, services, viewer, "", share_of=public)
    viewer_post = await create_post(client, services, viewer, "mine")
    remote = await create_post(
        client, services, await remote_account(services), local=False, tags=[tag]
    )
    await drain(services)

    async def ids(path: str, user: User | None = None, **params: object) -> list[str]:
        response = await client.get(path, query_string=params, headers=user.auth if user else {})
        assert response.status_code == 200, await response.get_data(as_text=True)
        return [p["id"] for p in (await response.get_json())["posts"]]

    local_ids = await ids("/api/timelines/local")
    assert str(public) in local_ids and str(remote) not in local_ids
    public_ids = await ids("/api/timelines/public")
    assert {str(public), str(remote)} <= set(public_ids)
    for hidden in (unlisted, followers_only, share):
        assert str(hidden) not in local_ids + public_ids
    assert await ids(f"/api/timelines/tag/{tag}") == [str(remote), str(public)]
    assert await ids(f"/api/timelines/tag/%23{tag.upper()}", limit=1) == [str(remote)]
    assert await ids(f"/api/timelines/tag/{tag}", until=str(remote)) == [str(public)]
    assert await ids("/api/timelines/tag/nothing_tagged_like_this") == []
    assert await ids("/api/timelines/tag/not a tag!") == []

    # Viewer state: null without login, filled with it.
    response = await client.get(f"/api/timelines/tag/{tag}")
    assert (await response.get_json())["posts"][0]["liked"] is None
    response = await client.get(f"/api/timelines/tag/{tag}", headers=viewer.auth)
    posts = (await response.get_json())["posts"]
    assert posts[1]["shared"] is True and posts[1]["liked"] is False

    # An empty page is 200 with an empty list; bad queries are 400 naming the field.
    empty = await client.get("/api/timelines/local", query_string={"until": "1"})
    assert empty.status_code == 200
    assert await empty.get_json() == {"posts": [], "newest": None, "oldest": None}
    bad = await client.get("/api/timelines/public", query_string={"limit": "500"})
    assert bad.status_code == 400 and (await bad.get_json())["detail"]["field"] == "limit"

    # A block hides posts both ways; a mute hides the muted account's from my public view.
    await client.put(f"/api/accounts/{alice.id}/block", headers=viewer.auth)
    assert str(public) not in await ids("/api/timelines/local", viewer)
    assert str(viewer_post) in await ids("/api/timelines/local")
    assert str(viewer_post) not in await ids("/api/timelines/local", alice)
    await client.delete(f"/api/accounts/{alice.id}/block", headers=viewer.auth)
    assert str(public) in await ids("/api/timelines/local", viewer)
