"""Helpers shared by the timeline and follow tests."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from quart.typing import TestClientProtocol as Client

from stgy.domain.jobs import outbox
from stgy.services import Services
from storage import timelines as timelines_sql
from tests.conftest import User


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
