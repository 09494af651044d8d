"""Home timelines: fan-out, backfill, removal, mutes, deletes, direct and remote posts."""

from __future__ import annotations

from quart.typing import TestClientProtocol as Client

from stgy.services import Services
from tests.conftest import make_user
from tests.integration.test_outbox import drain
from tests.integration.timeline_support import (
    create_post,
    delete_post,
    entries,
    follow,
    home,
    remote_account,
)


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
