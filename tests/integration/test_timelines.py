"""Home timelines (fan-out, backfill, removal, trim, on-read pages) and public/local/tag ones."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Sequence

import asyncpg
import pytest
from quart.typing import TestClientProtocol as Client

from stgy.domain import fanout, follows, outbox, timelines
from stgy.services import Services
from storage import timelines as timelines_sql
from storage.outbox import OutboxEvent, get_event
from tests.conftest import User, make_user
from tests.integration.test_outbox import drain

# ---- helpers (also used by test_api_follows.py)


async def create_post(
    client: Client,
    services: Services,
    author: User | int,
    text: str = "hello",
    *,
    visibility: str = "public",
    mentions: Sequence[User | int] = (),
    tags: Sequence[str] = (),
    share_of: int | None = None,
    local: bool = True,
) -> int:
    """A post or share by a logged-in user through the posts API; for accounts without a
    login (remote ones, or many made at once) written as that API writes it: the row,
    mentions, tags, the author's own home entry and a `post.created` event."""
    if isinstance(author, User):
        if share_of is not None:
            response = await client.put(f"/api/posts/{share_of}/share", headers=author.auth)
            assert response.status_code == 200, await response.get_data(as_text=True)
            async with services.pool.acquire() as conn:
                share_id: int = await conn.fetchval(
                    "SELECT id FROM posts WHERE account_id = $1 AND share_of_id = $2"
                    " AND deleted_at IS NULL",
                    int(author.id),
                    share_of,
                )
            return share_id
        if all(isinstance(who, User) for who in mentions):
            prefix = "".join(f"@{who.handle} " for who in mentions if isinstance(who, User))
            response = await client.post(
                "/api/posts",
                json={"text": prefix + text, "visibility": visibility, "tags": list(tags)},
                headers=author.auth,
            )
            assert response.status_code == 201, await response.get_data(as_text=True)
            return int((await response.get_json())["id"])
    return await _insert_post(
        services,
        int(author.id if isinstance(author, User) else author),
        text,
        visibility=visibility,
        mentions=[int(who.id if isinstance(who, User) else who) for who in mentions],
        tags=tags,
        share_of=share_of,
        local=local,
    )


async def _insert_post(
    services: Services,
    author_id: int,
    text: str,
    *,
    visibility: str,
    mentions: Sequence[int],
    tags: Sequence[str],
    share_of: int | None,
    local: bool,
) -> int:
    async with services.pool.acquire() as conn:
        async with conn.transaction():
            post_id: int = await conn.fetchval(
                "INSERT INTO posts (account_id, ap_id, source, html, visibility, share_of_id,"
                " tags, local) VALUES ($1, 'https://test.example/p/' || $2, $3, $3, $4, $5,"
                " $6, $7) RETURNING id",
                author_id,
                secrets.token_hex(8),
                text,
                visibility,
                share_of,
                list(tags),
                local,
            )
            for account_id in mentions:
                await conn.execute(
                    "INSERT INTO mentions (post_id, account_id) VALUES ($1, $2)",
                    post_id,
                    account_id,
                )
            for tag in tags:
                await conn.execute(
                    "INSERT INTO tags (name) VALUES ($1) ON CONFLICT DO NOTHING", tag
                )
                await conn.execute(
                    "INSERT INTO post_tags (tag, post_id) VALUES ($1, $2)", tag, post_id
                )
            if local:
                await conn.execute(
                    "INSERT INTO timeline_entries (owner_id, post_id, author_id)"
                    " VALUES ($1, $2, $1)",
                    author_id,
                    post_id,
                )
            event = await outbox.record_event(conn, "post.created", {"post_id": post_id})
    await outbox.enqueue_events(services.jobs, [event])
    return post_id


async def delete_post(client: Client, author: User, post_id: int) -> None:
    response = await client.delete(f"/api/posts/{post_id}", headers=author.auth)
    assert response.status_code == 200, await response.get_data(as_text=True)


async def remote_account(services: Services, handle: str = "someone") -> int:
    domain = f"remote-{secrets.token_hex(4)}.example"
    async with services.pool.acquire() as conn:
        account_id: int = await conn.fetchval(
            "INSERT INTO accounts (handle, domain, ap_id, inbox_url) VALUES ($1, $2,"
            " 'https://' || $2 || '/users/' || $1, 'https://' || $2 || '/inbox') RETURNING id",
            handle,
            domain,
        )
    return account_id


async def entries(services: Services, owner: User) -> list[int]:
    async with services.pool.acquire() as conn:
        return await timelines_sql.entry_ids(conn, owner_id=int(owner.id))


async def follow(client: Client, follower: User, followee: User) -> None:
    response = await client.put(f"/api/accounts/{followee.id}/follow", headers=follower.auth)
    assert response.status_code in (202, 204), await response.get_data(as_text=True)


async def home(client: Client, user: User, **params: object) -> list[str]:
    """Ids on the user's home page (empty for 204)."""
    response = await client.get("/api/timelines/home", query_string=params, headers=user.auth)
    if response.status_code == 204:
        assert await response.get_data(as_text=True) == ""
        return []
    assert response.status_code == 200, await response.get_data(as_text=True)
    return [post["id"] for post in (await response.get_json())["posts"]]


# ---- home timeline


async def test_followed_post_reaches_home_with_author_and_viewer_state(
    client: Client, services: Services
) -> None:
    a, b = await make_user(client), await make_user(client)
    assert (await client.get("/api/timelines/home", headers=a.auth)).status_code == 204
    await follow(client, a, b)
    await drain(services)
    post_id = await create_post(client, services, b, "first post")
    await drain(services)
    assert post_id in await entries(services, a)

    async with services.pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO likes (account_id, post_id) VALUES ($1, $2)", int(a.id), post_id
        )
    response = await client.get("/api/timelines/home", headers=a.auth)
    assert response.status_code == 200
    page = await response.get_json()
    assert [p["id"] for p in page["posts"]] == [str(post_id)]
    assert page["newest"] == page["oldest"] == str(post_id)
    post = page["posts"][0]
    assert post["account"]["id"] == b.id and post["account"]["followers_count"] == 1
    assert post["text"] == "first post"
    assert (post["liked"], post["shared"], post["bookmarked"]) == (True, False, False)

    # The author sees it at home too (own entry); a stranger's home stays empty.
    assert await home(client, b) == [str(post_id)]
    assert await home(client, await make_user(client)) == []


async def test_home_needs_login_and_validates_the_query(client: Client) -> None:
    user = await make_user(client)
    assert (await client.get("/api/timelines/home")).status_code == 401
    for params, field in (
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"since": "yesterday"}, "since"),
        ({"until": "-5"}, "until"),
        ({"colour": "red"}, "colour"),
    ):
        response = await client.get("/api/timelines/home", query_string=params, headers=user.auth)
        assert response.status_code == 400, params
        assert (await response.get_json())["detail"]["field"] == field


async def test_since_and_until_page_through_home(client: Client, services: Services) -> None:
    a, b = await make_user(client), await make_user(client)
    await follow(client, a, b)
    posts = [await create_post(client, services, b, f"post {i}") for i in range(5)]
    await drain(services)
    newest_first = [str(p) for p in reversed(posts)]
    assert await home(client, a) == newest_first

    first = await home(client, a, limit=2)
    second = await home(client, a, limit=2, until=first[-1])
    third = await home(client, a, limit=2, until=second[-1])
    assert first + second + third == newest_first
    assert await home(client, a, until=third[-1]) == []
    assert await home(client, a, since=newest_first[2]) == newest_first[:2]
    assert await home(client, a, since=newest_first[3], until=newest_first[0]) == newest_first[1:3]


async def test_unfollow_removes_and_follow_backfills(client: Client, services: Services) -> None:
    a, b = await make_user(client), await make_user(client)
    older = [await create_post(client, services, b, f"old {i}") for i in range(3)]
    direct_to_other = await create_post(
        client, services, b, "psst", visibility="direct", mentions=[await make_user(client)]
    )
    await drain(services)
    assert await entries(services, a) == []

    await follow(client, a, b)
    await drain(services)
    # The followee's recent posts, but not a direct post meant for someone else.
    assert await entries(services, a) == sorted(older, reverse=True)
    assert direct_to_other not in await entries(services, a)

    assert (await client.delete(f"/api/accounts/{b.id}/follow", headers=a.auth)).status_code == 204
    await drain(services)
    assert await entries(services, a) == []
    assert await home(client, a) == []


async def test_quick_refollow_keeps_the_new_backfill(client: Client, services: Services) -> None:
    a, b = await make_user(client), await make_user(client)
    post_id = await create_post(client, services, b)
    await follow(client, a, b)
    await client.delete(f"/api/accounts/{b.id}/follow", headers=a.auth)
    await follow(client, a, b)
    # Jobs run in any order: the unfollow's removal must not undo the second follow.
    await drain(services)
    assert await entries(services, a) == [post_id]


async def test_locked_account_backfills_on_accept(client: Client, services: Services) -> None:
    a, b = await make_user(client), await make_user(client, locked=True)
    post_id = await create_post(client, services, b, visibility="followers")
    await follow(client, a, b)
    await drain(services)
    assert await entries(services, a) == []
    assert await home(client, a) == []
    accepted = await client.post(f"/api/follow_requests/{a.id}/accept", headers=b.auth)
    assert accepted.status_code == 204
    await drain(services)
    assert await entries(services, a) == [post_id]
    assert await home(client, a) == [str(post_id)]


async def test_mute_hides_posts_and_shares_from_home(client: Client, services: Services) -> None:
    a, b, c = [await make_user(client) for _ in range(3)]
    await follow(client, a, b)
    await follow(client, a, c)
    b_post = await create_post(client, services, b, "from b")
    c_share = await create_post(client, services, c, "", share_of=b_post)
    c_post = await create_post(client, services, c, "from c")
    await drain(services)
    assert await home(client, a) == [str(c_post), str(c_share), str(b_post)]
    shared = (await (await client.get("/api/timelines/home", headers=a.auth)).get_json())["posts"][
        1
    ]
    assert shared["share_of"]["id"] == str(b_post)

    assert (await client.put(f"/api/accounts/{b.id}/mute", headers=a.auth)).status_code == 204
    assert await home(client, a) == [str(c_post)]
    # Muting hides at home only: the public timeline still shows the muted account's post
    # to others, and the entries stay for when the mute ends.
    assert str(b_post) in [
        p["id"] for p in (await (await client.get("/api/timelines/public")).get_json())["posts"]
    ]
    assert (await client.delete(f"/api/accounts/{b.id}/mute", headers=a.auth)).status_code == 204
    assert await home(client, a) == [str(c_post), str(c_share), str(b_post)]


async def test_deleted_post_and_its_shares_leave_home(client: Client, services: Services) -> None:
    a, b, c = [await make_user(client) for _ in range(3)]
    await follow(client, a, b)
    await follow(client, a, c)
    b_post = await create_post(client, services, b)
    c_share = await create_post(client, services, c, "", share_of=b_post)
    await drain(services)
    assert set(await entries(services, a)) == {b_post, c_share}
    assert await entries(services, c) == [c_share]

    await delete_post(client, b, b_post)
    # Hidden at once on read, and the rows go when the job runs.
    assert await home(client, a) == []
    await drain(services)
    for owner in (a, b, c):
        assert await entries(services, owner) == []


async def test_direct_post_reaches_only_mentioned_local_accounts(
    client: Client, services: Services
) -> None:
    follower, author, mentioned = [await make_user(client) for _ in range(3)]
    await follow(client, follower, author)
    remote = await remote_account(services)
    async with services.pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO follows (follower_id, followee_id) VALUES ($1, $2)",
            remote,
            int(author.id),
        )
    await drain(services)
    direct = await create_post(
        client, services, author, "for your eyes", visibility="direct", mentions=[mentioned, remote]
    )
    public = await create_post(client, services, author, "for all", mentions=[mentioned])
    await drain(services)
    assert await entries(services, mentioned) == [direct]
    assert await entries(services, follower) == [public]
    assert await home(client, mentioned) == [str(direct)]
    assert await home(client, follower) == [str(public)]
    async with services.pool.acquire() as conn:
        assert (
            await conn.fetchval("SELECT count(*) FROM timeline_entries WHERE owner_id = $1", remote)
            == 0
        )


async def test_remote_post_reaches_local_followers(client: Client, services: Services) -> None:
    reader = await make_user(client)
    remote = await remote_account(services)
    response = await client.put(f"/api/accounts/{remote}/follow", headers=reader.auth)
    assert response.status_code == 202
    async with services.pool.acquire() as conn:
        # What the federation does when the remote server sends Accept.
        await conn.execute(
            "UPDATE follows SET state = 'accepted' WHERE follower_id = $1", int(reader.id)
        )
    post_id = await create_post(client, services, remote, "from afar", local=False)
    await drain(services)
    assert await entries(services, reader) == [post_id]
    assert await home(client, reader) == [str(post_id)]


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
        # A first run lets asyncpg introspect the types once per connection.
        await timelines.home(counted, int(reader.id), since=None, until=None, limit=100)
        statements.clear()
        page = await timelines.home(counted, int(reader.id), since=None, until=None, limit=100)
        assert [v.id for v in page] == sorted(posts, reverse=True)
        assert len(statements) <= 2
        shares = [v for v in page if v.share_of_id is not None]
        assert len(shares) == 10 and all(v.share_of is not None for v in shares)
        assert sum(1 for v in page if v.mentions) == 30

        # Past the stored entries: the on-read part adds a fixed two statements.
        async with pool.acquire() as conn:
            await conn.execute("DELETE FROM timeline_entries WHERE owner_id = $1", int(reader.id))
        statements.clear()
        page = await timelines.home(counted, int(reader.id), since=None, until=None, limit=100)
        assert [v.id for v in page] == sorted(posts, reverse=True)
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
