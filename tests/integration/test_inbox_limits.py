"""The inbox's limits: what a validly signed delivery may hold (lengths of ids, JSON depth,
numbers of recipients, tags and attachments, sizes of text) is checked before anything is
stored, and a delivery signed for another server is refused. Each case of issue 15 that
answered 500, or was taken and then failed in the job for ever, answers 4xx here."""

from __future__ import annotations

import logging
import re
import secrets
from typing import Any

import orjson
import pytest
from quart.typing import TestClientProtocol as Client

from federation import limits, rfc9421, signatures
from stgy.config import Config
from stgy.domain.jobs import outbox
from stgy.domain.remote import inbox
from stgy.services import Services
from storage import follows as follows_sql
from storage import outbox as outbox_sql
from tests.conftest import make_user
from tests.integration.test_inbox import (
    Remote,
    activity_of,
    local_actor,
    make_remote,
    note_of,
    post_activity,
    post_row,
    row_count,
    stored,
)
from tests.integration.test_inbox_fetch import (  # noqa: F401 - fixtures
    RemoteServer,
    fed_client,
    fed_config,
    follow_of,
    remote_server,
    send,
)
from tests.integration.test_outbox import drain

DEEP = "<nested here>"


def nested(depth: int) -> str:
    """A placeholder for `dumps` to replace with lists nested `depth` deep (orjson itself
    writes at most 254 levels)."""
    return f"{DEEP}{depth}"


def dumps(activity: dict[str, Any]) -> bytes:
    text = orjson.dumps(activity).decode()
    for depth in re.findall(f'"{re.escape(DEEP)}(\\d+)"', text):
        n = int(depth)
        text = text.replace(f'"{DEEP}{n}"', "[" * n + '"bottom"' + "]" * n)
    return text.encode()


def random_part(length: int) -> str:
    """Characters that do not compress (PostgreSQL compresses index entries that do)."""
    return secrets.token_hex(length)[:length]


async def refusal(
    client: Client, config: Config, remote: Remote, activity: dict[str, Any], **kwargs: Any
) -> tuple[int, dict[str, Any]]:
    """Post a signed activity; the status and the JSON error it was answered."""
    body = dumps(activity)
    url = config.instance.base_url + kwargs.pop("path", "/inbox")
    headers = {"Content-Type": "application/activity+json"}
    if kwargs.pop("scheme", "cavage") == "cavage":
        headers |= signatures.sign_request(
            "POST", kwargs.pop("url", url), headers, body, remote.key_id, remote.private_pem
        )
    else:
        headers |= rfc9421.sign_request(
            "POST", kwargs.pop("url", url), headers, body, remote.key_id, remote.private_pem
        )
    headers |= kwargs.pop("headers", {})
    response = await client.post("/inbox", data=body, headers=headers)
    if response.status_code == 202:
        return 202, {}
    error = await response.get_json()
    assert isinstance(error, dict) and set(error) == {"error", "detail"}, error
    return response.status_code, error


@pytest.fixture
def no_internal_errors(caplog: pytest.LogCaptureFixture) -> Any:
    caplog.set_level(logging.INFO)
    yield
    unhandled = [r.getMessage() for r in caplog.records if "unhandled_error" in r.getMessage()]
    assert unhandled == []


# ---- ids and URLs


async def test_a_create_with_an_8000_character_id_is_refused_and_nothing_stored(
    client: Client, config: Config, services: Services, no_internal_errors: None
) -> None:
    remote = await make_remote(services)
    create = activity_of(remote, "Create", note_of(remote, "hi"))
    create["id"] = remote.url("activities/" + random_part(8000))
    status, error = await refusal(client, config, remote, create)
    assert status == 400, error
    assert error["error"] == "limit_exceeded"
    assert error["detail"]["field"] == "id" and error["detail"]["limit"] == limits.MAX_ID_BYTES
    assert await row_count(services, create) == 0


async def test_an_id_of_exactly_the_limit_is_taken_one_byte_more_is_not(
    client: Client, config: Config, services: Services, no_internal_errors: None
) -> None:
    remote = await make_remote(services)
    follow = activity_of(remote, "Follow", f"{remote.ap_id}/nobody")
    prefix = remote.url("activities/")
    follow["id"] = prefix + "b" * (limits.MAX_ID_BYTES - len(prefix))
    assert len(follow["id"].encode()) == limits.MAX_ID_BYTES
    assert await post_activity(client, config, remote, follow) == 202
    assert await row_count(services, follow) == 1
    follow["id"] += "b"
    status, error = await refusal(client, config, remote, follow)
    assert (status, error["error"], error["detail"]["field"]) == (400, "limit_exceeded", "id")
    assert await row_count(services, follow) == 0


async def test_a_create_mentioning_a_local_account_with_a_long_note_id_is_refused(
    client: Client, config: Config, services: Services, no_internal_errors: None
) -> None:
    user = await make_user(client)
    remote = await make_remote(services)
    note = note_of(remote, "hello @you")
    note["id"] = remote.url("users/alice/statuses/" + random_part(8050))
    note["tag"] = [{"type": "Mention", "href": local_actor(config, user), "name": "@you"}]
    create = activity_of(remote, "Create", note)
    status, error = await refusal(client, config, remote, create)
    assert status == 400 and error["error"] == "limit_exceeded"
    assert error["detail"]["field"] == "object.id"
    assert await row_count(services, create) == 0
    await drain(services)
    assert await post_row(services, note["id"]) is None


@pytest.mark.parametrize(
    ("where", "field"),
    [
        ("inReplyTo", "object.inReplyTo"),
        ("url", "object.url"),
        ("attachment", "object.attachment[0].url"),
        ("tag", "object.tag[0].href"),
        ("cc", "object.cc[1]"),
    ],
)
async def test_long_urls_anywhere_in_the_object_are_refused(
    client: Client, config: Config, services: Services, where: str, field: str
) -> None:
    remote = await make_remote(services)
    long_url = remote.url("x/" + "y" * limits.MAX_ID_BYTES)
    note = note_of(remote, "links")
    if where == "attachment":
        note["attachment"] = [{"type": "Document", "mediaType": "image/png", "url": long_url}]
    elif where == "tag":
        note["tag"] = [{"type": "Hashtag", "href": long_url, "name": "#long"}]
    elif where == "cc":
        note["cc"] = [*note["cc"], long_url]
    else:
        note[where] = long_url
    create = activity_of(remote, "Create", note)
    status, error = await refusal(client, config, remote, create)
    assert (status, error["error"], error["detail"]["field"]) == (400, "limit_exceeded", field)
    assert await row_count(services, create) == 0


# ---- JSON depth


async def test_a_create_nested_1020_arrays_deep_is_refused(
    client: Client, config: Config, services: Services, no_internal_errors: None
) -> None:
    remote = await make_remote(services)
    note = note_of(remote, "deep", deep=nested(1020))
    create = activity_of(remote, "Create", note)
    status, error = await refusal(client, config, remote, create)
    assert status == 400 and error["error"] == "limit_exceeded"
    assert error["detail"]["limit"] == limits.MAX_JSON_DEPTH
    assert await row_count(services, create) == 0


async def test_depth_within_the_limit_is_taken_one_more_is_not(
    client: Client, config: Config, services: Services
) -> None:
    remote = await make_remote(services)
    # The activity is depth 1, its object 2: the property's lists take the rest.
    fits = activity_of(
        remote, "Create", note_of(remote, "d", deep=nested(limits.MAX_JSON_DEPTH - 2))
    )
    assert (await refusal(client, config, remote, fits))[0] == 202
    deeper = activity_of(
        remote, "Create", note_of(remote, "d", deep=nested(limits.MAX_JSON_DEPTH - 1))
    )
    status, error = await refusal(client, config, remote, deeper)
    assert (status, error["error"]) == (400, "limit_exceeded")
    assert await row_count(services, deeper) == 0


async def _apply_stored(services: Services, remote: Remote, raw: str) -> Any:
    """Store an activity by hand (as one taken before the limits was) and apply it as the
    job does; the row afterwards."""
    ap_id = remote.url(f"activities/{secrets.token_hex(6)}")
    async with services.pool.acquire() as conn, conn.transaction():
        activity_id = await conn.fetchval(
            "INSERT INTO inbox_activities (ap_id, actor_id, type, raw)"
            " VALUES ($1, $2, 'Create', $3::jsonb) RETURNING id",
            ap_id,
            remote.ap_id,
            raw,
        )
        event_id = await outbox.record_event(
            conn, "inbox.received", {"inbox_activity_id": activity_id}
        )
        event = await outbox_sql.get_event(conn, event_id=event_id)
        assert event is not None
        await inbox.apply_activity(conn, event, services)
        await outbox_sql.mark_done(conn, event_id=event_id)
    return await stored(services, {"id": ap_id})


@pytest.mark.parametrize("depth", [40, 1020])
async def test_a_stored_activity_nested_too_deep_is_failed_by_the_job(
    client: Client, config: Config, services: Services, depth: int
) -> None:
    user = await make_user(client)
    remote = await make_remote(services)
    async with services.pool.acquire() as conn:
        await follows_sql.insert_follow(
            conn, follower_id=int(user.id), followee_id=remote.account_id, state="accepted"
        )
    note = note_of(remote, "deep", deep=nested(depth))
    create = activity_of(remote, "Create", note)
    row = await _apply_stored(services, remote, dumps(create).decode())
    assert row["processed_at"] is not None
    assert f"deeper than {limits.MAX_JSON_DEPTH}" in row["error"]
    assert await post_row(services, note["id"]) is None


async def test_a_stored_activity_over_a_limit_is_failed_by_the_job(
    client: Client, config: Config, services: Services
) -> None:
    user = await make_user(client)
    remote = await make_remote(services)
    note = note_of(remote, "hello")
    note["id"] = remote.url("users/alice/statuses/" + random_part(8050))
    note["tag"] = [{"type": "Mention", "href": local_actor(config, user), "name": "@you"}]
    create = activity_of(remote, "Create", note)
    row = await _apply_stored(services, remote, dumps(create).decode())
    assert row["processed_at"] is not None
    assert "object.id" in row["error"] and str(limits.MAX_ID_BYTES) in row["error"]


# ---- numbers of items and sizes of text


async def test_2000_recipients_are_refused(
    client: Client, config: Config, services: Services, no_internal_errors: None
) -> None:
    remote = await make_remote(services)
    to = [remote.url(f"users/u{i}") for i in range(2000)]
    create = activity_of(remote, "Create", note_of(remote, "everyone"), to=to)
    status, error = await refusal(client, config, remote, create)
    assert status == 400 and error["error"] == "limit_exceeded"
    assert error["detail"]["field"] == "to" and error["detail"]["limit"] == limits.MAX_RECIPIENTS
    assert await row_count(services, create) == 0


@pytest.mark.parametrize(
    ("name", "count", "field", "limit"),
    [
        ("cc", limits.MAX_RECIPIENTS, "object.cc", limits.MAX_RECIPIENTS),
        ("tag", limits.MAX_TAGS + 1, "object.tag", limits.MAX_TAGS),
        ("attachment", limits.MAX_ATTACHMENTS + 1, "object.attachment", limits.MAX_ATTACHMENTS),
    ],
)
async def test_too_many_items_in_the_object_are_refused(
    client: Client,
    config: Config,
    services: Services,
    name: str,
    count: int,
    field: str,
    limit: int,
) -> None:
    remote = await make_remote(services)
    note = note_of(remote, "many")
    if name == "cc":
        note["cc"] = [remote.url(f"users/u{i}") for i in range(count)]  # with `to`: one over
    elif name == "tag":
        note["tag"] = [{"type": "Hashtag", "href": remote.url(f"t/{i}"), "name": f"#t{i}"}
                       for i in range(count)]  # fmt: skip
    else:
        note["attachment"] = [{"type": "Image", "url": remote.url(f"m/{i}.png")}
                              for i in range(count)]  # fmt: skip
    create = activity_of(remote, "Create", note)
    status, error = await refusal(client, config, remote, create)
    assert status == 400 and error["error"] == "limit_exceeded"
    assert (error["detail"]["field"], error["detail"]["limit"]) == (field, limit)
    assert await row_count(services, create) == 0


@pytest.mark.parametrize(
    ("name", "limit"),
    [("content", limits.MAX_CONTENT_BYTES), ("summary", limits.MAX_SUMMARY_BYTES)],
)
async def test_text_over_its_size_is_refused(
    client: Client, config: Config, services: Services, name: str, limit: int
) -> None:
    remote = await make_remote(services)
    note = note_of(remote, "")
    note[name] = "あ" * (limit // 3 + 1)  # three bytes each in UTF-8
    create = activity_of(remote, "Create", note)
    status, error = await refusal(client, config, remote, create)
    assert status == 400 and error["error"] == "limit_exceeded"
    assert (error["detail"]["field"], error["detail"]["limit"]) == (f"object.{name}", limit)
    assert await row_count(services, create) == 0


# ---- the signed Host


async def test_a_delivery_signed_for_another_host_is_refused(
    client: Client, config: Config, services: Services, no_internal_errors: None
) -> None:
    user = await make_user(client)
    remote = await make_remote(services)
    follow = activity_of(remote, "Follow", local_actor(config, user))
    status, error = await refusal(
        client, config, remote, follow, url="https://elsewhere.example/inbox"
    )
    assert status == 401 and error["error"] == "unauthorized"
    assert "elsewhere.example" in error["detail"] and config.instance.domain in error["detail"]
    assert await row_count(services, follow) == 0


async def test_an_rfc9421_delivery_whose_authority_is_another_host_is_refused(
    client: Client, config: Config, services: Services
) -> None:
    user = await make_user(client)
    remote = await make_remote(services)
    follow = activity_of(remote, "Follow", local_actor(config, user))
    status, error = await refusal(
        client,
        config,
        remote,
        follow,
        scheme="rfc9421",
        url="https://elsewhere.example/inbox",
        headers={"Host": "elsewhere.example"},
    )
    assert status == 401 and "elsewhere.example" in error["detail"]
    assert await row_count(services, follow) == 0


async def test_a_delivery_whose_signature_leaves_out_host_is_refused(
    client: Client, config: Config, services: Services
) -> None:
    user = await make_user(client)
    remote = await make_remote(services)
    follow = activity_of(remote, "Follow", local_actor(config, user))
    body = orjson.dumps(follow)
    headers = {"Content-Type": "application/activity+json"}
    headers |= signatures.sign_request(
        "POST",
        config.instance.base_url + "/inbox",
        headers,
        body,
        remote.key_id,
        remote.private_pem,
        signed_headers=["(request-target)", "date", "digest"],
    )
    response = await client.post("/inbox", data=body, headers=headers)
    assert response.status_code == 401
    assert (await response.get_json())["detail"] == "header host not signed"
    assert await row_count(services, follow) == 0


async def test_a_wrong_host_is_refused_before_the_key_is_fetched(
    fed_client: Client,  # noqa: F811
    fed_config: Config,  # noqa: F811
    services: Services,
    remote_server: RemoteServer,  # noqa: F811
) -> None:
    user = await make_user(fed_client)
    remote_server.add_actor("dave")
    follow = follow_of(remote_server, "dave", f"{fed_config.instance.base_url}/users/{user.handle}")
    body = orjson.dumps(follow)
    headers = {"Content-Type": "application/activity+json"}
    headers |= signatures.sign_request(
        "POST",
        "https://elsewhere.example/inbox",
        headers,
        body,
        f"{remote_server.base}/users/dave#main-key",
        remote_server.keys["dave"],
    )
    response = await fed_client.post("/inbox", data=body, headers=headers)
    assert response.status_code == 401
    assert remote_server.fetches == 0
    # The same delivery signed for us is taken, with the one fetch of the key.
    assert await send(fed_client, fed_config, remote_server, "dave", follow) == 202
    assert remote_server.fetches == 1


# ---- documents we fetch


async def test_an_actor_document_over_a_limit_is_not_stored(
    fed_client: Client,  # noqa: F811
    fed_config: Config,  # noqa: F811
    services: Services,
    remote_server: RemoteServer,  # noqa: F811
) -> None:
    user = await make_user(fed_client)
    actor_id = remote_server.add_actor("erin")
    remote_server.actors["erin"]["endpoints"]["sharedInbox"] = (
        f"{remote_server.base}/inbox?" + "s" * (limits.MAX_ID_BYTES + 1)
    )
    follow = follow_of(remote_server, "erin", f"{fed_config.instance.base_url}/users/{user.handle}")
    assert await send(fed_client, fed_config, remote_server, "erin", follow) == 401
    assert remote_server.fetches == 1
    async with services.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM accounts WHERE ap_id = $1", actor_id) == 0
