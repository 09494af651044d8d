"""The inbox with real HTTP signatures from a remote actor whose key stgy knows."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from quart.typing import TestClientProtocol as Client

from federation import rfc9421, signatures
from federation.vocab import PUBLIC
from stgy.config import Config
from stgy.domain.jobs import outbox
from stgy.domain.remote import inbox
from stgy.services import Services
from storage import follows as follows_sql
from storage import outbox as outbox_sql
from storage import remote_accounts as remote_sql
from storage.remote_accounts import RemoteActorRow
from tests.conftest import User, make_user
from tests.integration.test_outbox import drain

AS = "https://www.w3.org/ns/activitystreams"


@dataclass
class Remote:
    """An actor of another server, known to stgy with its public key."""

    host: str
    ap_id: str
    key_id: str
    private_pem: str
    account_id: int

    def url(self, path: str) -> str:
        return f"https://{self.host}/{path}"


def _key_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


async def make_remote(services: Services, host: str | None = None) -> Remote:
    host = host or f"r{secrets.token_hex(4)}.example"
    ap_id = f"https://{host}/users/alice"
    private_pem, public_pem = _key_pair()
    async with services.pool.acquire() as conn:
        account = await remote_sql.upsert_remote_account(
            conn,
            RemoteActorRow(
                ap_id=ap_id,
                domain=host,
                handle="alice",
                display_name="Alice",
                bio_html="<p>hi</p>",
                url=f"https://{host}/@alice",
                inbox_url=f"{ap_id}/inbox",
                shared_inbox_url=f"https://{host}/inbox",
                outbox_url=f"{ap_id}/outbox",
                followers_url=f"{ap_id}/followers",
                following_url=f"{ap_id}/following",
                featured_url=f"{ap_id}/collections/featured",
                public_key_id=f"{ap_id}#main-key",
                public_key_pem=public_pem,
                locked=False,
                bot=False,
                fetched_at=datetime.now(UTC),
            ),
        )
    assert account is not None and account.domain == host
    return Remote(host, ap_id, f"{ap_id}#main-key", private_pem, account.id)


def local_actor(config: Config, user: User) -> str:
    return f"{config.instance.base_url}/users/{user.handle}"


async def post_activity(
    client: Client,
    config: Config,
    signer: Remote | None,
    activity: dict[str, Any],
    *,
    path: str = "/inbox",
    now: datetime | None = None,
    scheme: str = "cavage",
    tamper: dict[str, Any] | None = None,
) -> int:
    body = orjson.dumps(activity)
    url = config.instance.base_url + path
    headers = {"Content-Type": "application/activity+json"}
    if signer is not None and scheme == "cavage":
        headers |= signatures.sign_request(
            "POST", url, headers, body, signer.key_id, signer.private_pem, now=now
        )
    elif signer is not None:
        headers |= rfc9421.sign_request(
            "POST", url, headers, body, signer.key_id, signer.private_pem, now=now
        )
        headers["Host"] = config.instance.domain
    if tamper is not None:
        body = orjson.dumps(tamper)
    response = await client.post(path, data=body, headers=headers)
    if response.status_code != 202:
        error = await response.get_json()
        assert set(error) == {"error", "detail"}, error
    else:
        assert await response.get_data(as_text=True) == ""
    return response.status_code


def activity_of(remote: Remote, kind: str, obj: Any, **extra: Any) -> dict[str, Any]:
    return {
        "@context": AS,
        "id": remote.url(f"activities/{secrets.token_hex(6)}"),
        "type": kind,
        "actor": remote.ap_id,
        "object": obj,
        **extra,
    }


def note_of(remote: Remote, text: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": remote.url(f"users/alice/statuses/{secrets.token_hex(6)}"),
        "type": "Note",
        "attributedTo": remote.ap_id,
        "content": f"<p>{text}</p><script>alert(1)</script>",
        "published": "2026-01-02T03:04:05Z",
        "to": [PUBLIC],
        "cc": [f"{remote.ap_id}/followers"],
        **extra,
    }


async def stored(services: Services, activity: dict[str, Any]) -> Any:
    async with services.pool.acquire() as conn:
        return await conn.fetchrow(
            "SELECT id, count(*) OVER () AS n, processed_at, error FROM inbox_activities"
            " WHERE ap_id = $1",
            activity["id"],
        )


async def row_count(services: Services, activity: dict[str, Any]) -> int:
    async with services.pool.acquire() as conn:
        n: int = await conn.fetchval(
            "SELECT count(*) FROM inbox_activities WHERE ap_id = $1", activity["id"]
        )
    return n


async def account_counts(services: Services, account_id: int) -> tuple[int, int, int]:
    async with services.pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT followers_count, following_count, posts_count FROM accounts WHERE id = $1",
            account_id,
        )
    return row["followers_count"], row["following_count"], row["posts_count"]


async def notifications_of(client: Client, user: User) -> list[tuple[str, str]]:
    response = await client.get("/api/notifications", headers=user.auth)
    assert response.status_code == 200
    return [(n["type"], n["account"]["acct"]) for n in (await response.get_json())["notifications"]]


async def write_post(client: Client, user: User, **fields: Any) -> dict[str, Any]:
    response = await client.post("/api/posts", json={"text": "local", **fields}, headers=user.auth)
    assert response.status_code == 201, await response.get_data(as_text=True)
    body: dict[str, Any] = await response.get_json()
    return body


async def post_row(services: Services, ap_id: str) -> Any:
    async with services.pool.acquire() as conn:
        return await conn.fetchrow(
            "SELECT id, account_id, local, html, visibility, deleted_at, in_reply_to_id,"
            " likes_count, shares_count FROM posts WHERE ap_id = $1",
            ap_id,
        )


# ---- accepted activities


async def test_follow_is_applied_once_and_notifies(
    client: Client, config: Config, services: Services
) -> None:
    user = await make_user(client)
    remote = await make_remote(services)
    follow = activity_of(remote, "Follow", local_actor(config, user))
    assert await post_activity(client, config, remote, follow) == 202
    # Redelivered (signed anew): answered 202, stored and applied once.
    assert await post_activity(client, config, remote, follow) == 202
    assert await row_count(services, follow) == 1
    await drain(services)

    row = await stored(services, follow)
    assert row["processed_at"] is not None and row["error"] is None
    async with services.pool.acquire() as conn:
        found = await follows_sql.get_follow(
            conn, follower_id=remote.account_id, followee_id=int(user.id)
        )
        follow_ap_id = await conn.fetchval(
            "SELECT ap_id FROM follows WHERE follower_id = $1", remote.account_id
        )
    assert found is not None and found.state == "accepted"
    assert follow_ap_id == follow["id"]
    assert (await account_counts(services, int(user.id)))[0] == 1
    assert (await account_counts(services, remote.account_id))[1] == 1
    assert await notifications_of(client, user) == [("follow", f"alice@{remote.host}")]
    # Applying the activity again, even unmarked, changes nothing.
    async with services.pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "UPDATE inbox_activities SET processed_at = NULL WHERE id = $1", row["id"]
        )
        event_id = await outbox.record_event(
            conn, "inbox.received", {"inbox_activity_id": row["id"]}
        )
        event = await outbox_sql.get_event(conn, event_id=event_id)
        assert event is not None
        await inbox.apply_activity(conn, event, services)
        await outbox_sql.mark_done(conn, event_id=event_id)
    assert (await stored(services, follow))["processed_at"] is not None
    assert (await account_counts(services, int(user.id)))[0] == 1
    assert len(await notifications_of(client, user)) == 1

    undo = activity_of(remote, "Undo", {k: v for k, v in follow.items() if k != "@context"})
    assert await post_activity(client, config, remote, undo) == 202
    await drain(services)
    assert (await account_counts(services, int(user.id)))[0] == 0
    assert (await account_counts(services, remote.account_id))[1] == 0


async def test_follow_of_a_locked_account_is_a_request(
    client: Client, config: Config, services: Services
) -> None:
    user = await make_user(client, locked=True)
    remote = await make_remote(services)
    follow = activity_of(remote, "Follow", local_actor(config, user))
    path = f"/users/{user.handle}/inbox"
    assert await post_activity(client, config, remote, follow, path=path) == 202
    await drain(services)
    async with services.pool.acquire() as conn:
        found = await follows_sql.get_follow(
            conn, follower_id=remote.account_id, followee_id=int(user.id)
        )
    assert found is not None and found.state == "pending"
    assert (await account_counts(services, int(user.id)))[0] == 0
    assert await notifications_of(client, user) == [("follow_request", f"alice@{remote.host}")]


async def test_note_from_a_followed_actor_reaches_home_and_delete_tombstones_it(
    client: Client, config: Config, services: Services
) -> None:
    user = await make_user(client)
    remote = await make_remote(services)
    async with services.pool.acquire() as conn:
        await follows_sql.insert_follow(
            conn, follower_id=int(user.id), followee_id=remote.account_id, state="accepted"
        )
    mine = await write_post(client, user)
    note = note_of(remote, "hello from afar")
    note["inReplyTo"] = f"{config.instance.base_url}/users/{user.handle}/posts/{mine['id']}"
    create = activity_of(remote, "Create", note)
    assert await post_activity(client, config, remote, create, scheme="rfc9421") == 202
    await drain(services)

    row = await post_row(services, note["id"])
    assert row is not None and row["local"] is False and row["account_id"] == remote.account_id
    assert row["visibility"] == "public"
    assert row["html"].startswith("<p>hello from afar</p>") and "script" not in row["html"]
    assert row["in_reply_to_id"] == int(mine["id"])
    response = await client.get("/api/timelines/home", headers=user.auth)
    home = [p["id"] for p in (await response.get_json())["posts"]]
    assert str(row["id"]) in home
    assert ("reply", f"alice@{remote.host}") in await notifications_of(client, user)
    assert (await account_counts(services, remote.account_id))[2] == 1

    delete = activity_of(remote, "Delete", {"id": note["id"], "type": "Tombstone"})
    assert await post_activity(client, config, remote, delete) == 202
    await drain(services)
    assert (await post_row(services, note["id"]))["deleted_at"] is not None
    response = await client.get("/api/timelines/home", headers=user.auth)
    posts = [] if response.status_code == 204 else (await response.get_json())["posts"]
    assert str(row["id"]) not in [p["id"] for p in posts]
    assert (await account_counts(services, remote.account_id))[2] == 0


async def test_note_nobody_here_wants_is_ignored(
    client: Client, config: Config, services: Services
) -> None:
    remote = await make_remote(services)
    note = note_of(remote, "into the void")
    create = activity_of(remote, "Create", note)
    assert await post_activity(client, config, remote, create) == 202
    await drain(services)
    assert await post_row(services, note["id"]) is None
    assert "nobody here" in (await stored(services, create))["error"]


async def test_like_and_announce_of_a_local_post(
    client: Client, config: Config, services: Services
) -> None:
    user = await make_user(client)
    remote = await make_remote(services)
    post = await write_post(client, user)
    post_ap_id = f"{config.instance.base_url}/users/{user.handle}/posts/{post['id']}"
    like = activity_of(remote, "Like", post_ap_id)
    announce = activity_of(remote, "Announce", post_ap_id, to=[PUBLIC])
    assert await post_activity(client, config, remote, like) == 202
    assert await post_activity(client, config, remote, announce) == 202
    await drain(services)
    row = await post_row(services, post_ap_id)
    assert row["likes_count"] == 1 and row["shares_count"] == 1
    assert sorted(await notifications_of(client, user)) == [
        ("like", f"alice@{remote.host}"),
        ("share", f"alice@{remote.host}"),
    ]
    share = await post_row(services, announce["id"])
    assert share is not None and share["local"] is False


async def test_like_of_a_post_refusing_likes_is_ignored(
    client: Client, config: Config, services: Services
) -> None:
    user = await make_user(client)
    remote = await make_remote(services)
    post = await write_post(client, user, allow_likes=False)
    post_ap_id = f"{config.instance.base_url}/users/{user.handle}/posts/{post['id']}"
    like = activity_of(remote, "Like", post_ap_id)
    assert await post_activity(client, config, remote, like) == 202
    await drain(services)
    assert (await post_row(services, post_ap_id))["likes_count"] == 0
    assert "likes" in (await stored(services, like))["error"]
