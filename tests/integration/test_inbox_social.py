"""The inbox, part three: Move, Flag, Block, Update by someone else, and replies or likes
that a local post's interaction policy refuses."""

from __future__ import annotations

from quart.typing import TestClientProtocol as Client

from federation.vocab import PUBLIC
from stgy.config import Config
from stgy.services import Services
from tests.conftest import make_user
from tests.integration.test_inbox import (
    activity_of,
    local_actor,
    make_remote,
    note_of,
    post_activity,
    post_row,
    stored,
    write_post,
)
from tests.integration.test_outbox import drain


async def _value(services: Services, query: str, *args: object) -> object:
    async with services.pool.acquire() as conn:
        return await conn.fetchval(query, *args)


async def test_move_is_recorded_on_the_account(
    client: Client, config: Config, services: Services
) -> None:
    old, new = await make_remote(services), await make_remote(services)
    move = activity_of(old, "Move", old.ap_id, target=new.ap_id)
    assert await post_activity(client, config, old, move) == 202
    await drain(services)
    row = await _value(
        services,
        "SELECT moved_to_ap_id || ' ' || moved_to_id FROM accounts WHERE id = $1",
        old.account_id,
    )
    assert row == f"{new.ap_id} {new.account_id}"
    # Moving someone else is refused, and recorded as such.
    other = await make_remote(services)
    forged = activity_of(old, "Move", other.ap_id, target=new.ap_id)
    assert await post_activity(client, config, old, forged) == 202
    await drain(services)
    assert "moves only itself" in (await stored(services, forged))["error"]
    assert (
        await _value(
            services, "SELECT moved_to_ap_id FROM accounts WHERE id = $1", other.account_id
        )
        is None
    )


async def test_flag_creates_a_report_once(
    client: Client, config: Config, services: Services
) -> None:
    user = await make_user(client)
    post = await write_post(client, user, text="reported")
    remote = await make_remote(services)
    flag = activity_of(
        remote, "Flag", [local_actor(config, user), post["ap_id"]], content="spam, sorry"
    )
    assert await post_activity(client, config, remote, flag) == 202
    assert await post_activity(client, config, remote, flag) == 202  # replayed
    await drain(services)
    async with services.pool.acquire() as conn:
        reports = await conn.fetch(
            "SELECT target_account_id, post_ids, comment, reporter_id FROM reports"
            " WHERE ap_id = $1",
            flag["id"],
        )
    assert [tuple(r) for r in reports] == [
        (int(user.id), [int(post["id"])], "spam, sorry", remote.account_id)
    ]
    # The post as it was, kept with the report (once, though the Flag came twice).
    kept = await _value(
        services,
        "SELECT array_agg(s.source) FROM report_posts s JOIN reports r ON r.id = s.report_id"
        " WHERE r.ap_id = $1",
        flag["id"],
    )
    assert kept == ["reported"]
    nothing_local = activity_of(remote, "Flag", ["https://elsewhere.example/users/x"])
    assert await post_activity(client, config, remote, nothing_local) == 202
    await drain(services)
    assert (
        await _value(services, "SELECT count(*) FROM reports WHERE ap_id = $1", nothing_local["id"])
        == 0
    )


async def test_block_ends_follows_both_ways_and_undo_lifts_it(
    client: Client, config: Config, services: Services
) -> None:
    user = await make_user(client)
    remote = await make_remote(services)
    follow = activity_of(remote, "Follow", local_actor(config, user))
    assert await post_activity(client, config, remote, follow) == 202
    await drain(services)
    block = activity_of(remote, "Block", local_actor(config, user))
    assert await post_activity(client, config, remote, block) == 202
    await drain(services)
    assert (
        await _value(services, "SELECT count(*) FROM follows WHERE followee_id = $1", int(user.id))
        == 0
    )
    assert (
        await _value(
            services,
            "SELECT count(*) FROM blocks WHERE account_id = $1 AND target_id = $2",
            remote.account_id,
            int(user.id),
        )
        == 1
    )
    undo = activity_of(remote, "Undo", {**block, "@context": None})
    assert await post_activity(client, config, remote, undo) == 202
    await drain(services)
    assert (
        await _value(
            services, "SELECT count(*) FROM blocks WHERE account_id = $1", remote.account_id
        )
        == 0
    )


async def test_replies_and_likes_against_the_post_policy_are_refused(
    client: Client, config: Config, services: Services
) -> None:
    user = await make_user(client)
    post = await write_post(
        client, user, text="no replies, no likes", allow_replies=False, allow_likes=False
    )
    remote = await make_remote(services)
    note = note_of(remote, "a reply nobody asked for", inReplyTo=post["ap_id"], to=[PUBLIC])
    create = activity_of(remote, "Create", note)
    like = activity_of(remote, "Like", post["ap_id"])
    for activity in (create, like):
        assert await post_activity(client, config, remote, activity) == 202
    await drain(services)
    assert await post_row(services, note["id"]) is None
    row = await post_row(services, post["ap_id"])
    assert row["likes_count"] == 0
    assert await _value(services, "SELECT replies_count FROM posts WHERE id = $1", row["id"]) == 0
    assert "does not accept replies" in (await stored(services, create))["error"]
    assert "does not accept likes" in (await stored(services, like))["error"]

    # Replies to a post that accepts them are taken though nobody here follows the author.
    open_post = await write_post(client, user, text="talk to me")
    welcome = note_of(remote, "hello", inReplyTo=open_post["ap_id"], to=[PUBLIC])
    assert (
        await post_activity(client, config, remote, activity_of(remote, "Create", welcome)) == 202
    )
    await drain(services)
    stored_reply = await post_row(services, welcome["id"])
    assert stored_reply is not None and stored_reply["in_reply_to_id"] == int(open_post["id"])


async def test_update_edits_the_authors_note_and_a_forged_one_is_refused(
    client: Client, config: Config, services: Services
) -> None:
    user = await make_user(client)
    author, other = await make_remote(services), await make_remote(services)
    # A local follower of the author is what makes the note stored here.
    async with services.pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO follows (follower_id, followee_id, state) VALUES ($1, $2, 'accepted')",
            int(user.id),
            author.account_id,
        )
    note = note_of(author, "original", to=[PUBLIC])
    assert await post_activity(client, config, author, activity_of(author, "Create", note)) == 202
    await drain(services)
    post_id = (await post_row(services, note["id"]))["id"]
    # `other` signs an Update of a note on the author's host: refused at the door.
    forged = activity_of(other, "Update", {**note, "content": "<p>forged</p>"})
    assert await post_activity(client, config, other, forged) == 403
    genuine = activity_of(author, "Update", {**note, "content": "<p>edited</p>"})
    assert await post_activity(client, config, author, genuine) == 202
    await drain(services)
    assert "edited" in (await post_row(services, note["id"]))["html"]
    assert (
        await _value(services, "SELECT count(*) FROM post_edits WHERE post_id = $1", post_id) == 1
    )


async def test_a_remote_notes_hashtags_are_kept_and_follow_its_updates(
    client: Client, config: Config, services: Services
) -> None:
    """The tag timelines read post_tags: a remote note's Hashtag tags are written there
    (valid names only, in their stored form), and an Update replaces them."""
    user = await make_user(client)
    author = await make_remote(services)
    async with services.pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO follows (follower_id, followee_id, state) VALUES ($1, $2, 'accepted')",
            int(user.id),
            author.account_id,
        )

    def hashtags(*names: str) -> list[dict[str, str]]:
        return [
            {"type": "Hashtag", "href": f"https://x.example/tags/{n}", "name": n} for n in names
        ]

    note = {
        **note_of(author, "tagged", to=[PUBLIC]),
        "tag": [*hashtags("#Garden", "#not a tag!", "#123"), {"type": "Mention", "name": "@x"}],
    }
    assert await post_activity(client, config, author, activity_of(author, "Create", note)) == 202
    await drain(services)
    post_id = (await post_row(services, note["id"]))["id"]

    async def tags() -> list[str]:
        async with services.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT tag FROM post_tags WHERE post_id = $1 ORDER BY tag", post_id
            )
        return [row["tag"] for row in rows]

    assert await tags() == ["garden"]
    edited = {**note, "content": "<p>retagged</p>", "tag": hashtags("#Pond", "#garden_two")}
    assert await post_activity(client, config, author, activity_of(author, "Update", edited)) == 202
    await drain(services)
    assert await tags() == ["garden_two", "pond"]
