"""The inbox, part two: what accepted activities do."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from quart.typing import TestClientProtocol as Client

from federation.vocab import PUBLIC
from stgy.config import Config
from stgy.domain.remote.inbox_apply import visibility_of
from stgy.services import Services
from storage import inbox as inbox_sql
from tests.conftest import make_user
from tests.integration.test_inbox import (
    account_counts,
    activity_of,
    local_actor,
    make_remote,
    note_of,
    post_activity,
    row_count,
    stored,
)
from tests.integration.test_outbox import drain


async def test_unknown_type_is_stored_and_ignored(
    client: Client, config: Config, services: Services
) -> None:
    remote = await make_remote(services)
    listen = activity_of(remote, "Listen", remote.url("songs/1"))
    assert await post_activity(client, config, remote, listen) == 202
    await drain(services)
    row = await stored(services, listen)
    assert row["n"] == 1 and row["processed_at"] is not None
    assert "unsupported" in row["error"]


async def test_delete_of_the_actor_purges_it(
    client: Client, config: Config, services: Services
) -> None:
    user = await make_user(client)
    remote = await make_remote(services)
    follow = activity_of(remote, "Follow", local_actor(config, user))
    assert await post_activity(client, config, remote, follow) == 202
    await drain(services)
    assert (await account_counts(services, int(user.id)))[0] == 1
    delete = activity_of(remote, "Delete", remote.ap_id, id=f"{remote.ap_id}#delete")
    assert await post_activity(client, config, remote, delete) == 202
    await drain(services)
    assert (await account_counts(services, int(user.id)))[0] == 0
    async with services.pool.acquire() as conn:
        deleted = await conn.fetchval(
            "SELECT deleted_at FROM accounts WHERE id = $1", remote.account_id
        )
    assert deleted is not None


# ---- refusals: nothing stored


async def test_refusals_store_nothing(client: Client, config: Config, services: Services) -> None:
    user = await make_user(client)
    remote, other = await make_remote(services), await make_remote(services)
    target = local_actor(config, user)

    def follow() -> dict[str, Any]:
        return activity_of(remote, "Follow", target)

    unsigned = follow()
    assert await post_activity(client, config, None, unsigned) == 401
    changed = follow()
    tampered = {**changed, "object": remote.ap_id}
    assert await post_activity(client, config, remote, changed, tamper=tampered) == 401
    stale = follow()
    long_ago = datetime.now(UTC) - timedelta(hours=13)
    assert await post_activity(client, config, remote, stale, now=long_ago) == 401
    # Signed by `other`, claiming to be `remote`.
    impostor = follow()
    assert await post_activity(client, config, other, impostor) == 401
    # A Create whose note lives on a third host.
    spoofed_note = note_of(remote, "not mine")
    spoofed_note["id"] = f"https://third.example/notes/{secrets.token_hex(4)}"
    spoof = activity_of(remote, "Create", spoofed_note)
    assert await post_activity(client, config, remote, spoof) == 403
    for activity in (unsigned, changed, stale, impostor, spoof):
        assert await row_count(services, activity) == 0
    assert await row_count(services, tampered) == 0


async def test_blocked_instance_is_refused(
    client: Client, config: Config, services: Services
) -> None:
    user = await make_user(client)
    remote = await make_remote(services, host=f"a.b{secrets.token_hex(3)}.example")
    async with services.pool.acquire() as conn:
        await inbox_sql.set_blocked(conn, domain=remote.host.split(".", 1)[1], blocked=True)
    follow = activity_of(remote, "Follow", local_actor(config, user))
    assert await post_activity(client, config, remote, follow) == 403
    assert await row_count(services, follow) == 0


async def test_bad_requests(client: Client, config: Config, services: Services) -> None:
    remote = await make_remote(services)
    headers = {"Content-Type": "application/activity+json"}
    assert (await client.post("/inbox", data=b"[1, 2]", headers=headers)).status_code == 400
    assert (await client.post("/inbox", data=b"{nope", headers=headers)).status_code == 400
    nul = b'{"id": "x\\u0000"}'
    assert (await client.post("/inbox", data=nul, headers=headers)).status_code == 400
    big = b'{"a": "' + b"x" * config.limits.request_body_bytes + b'"}'
    response = await client.post("/inbox", data=big, headers=headers)
    assert response.status_code == 413
    assert (await response.get_json())["error"] == "request_entity_too_large"
    follow = activity_of(remote, "Follow", remote.ap_id)
    status = await post_activity(client, config, remote, follow, path="/users/nobody_here/inbox")
    assert status == 404


def test_visibility_follows_addressing() -> None:
    followers = "https://r.example/users/a/followers"
    assert visibility_of({"to": PUBLIC}, followers) == "public"
    assert visibility_of({"to": [followers], "cc": ["as:Public"]}, followers) == "unlisted"
    assert visibility_of({"to": [followers]}, followers) == "followers"
    assert visibility_of({"to": ["https://x.example/users/b"]}, followers) == "direct"
