"""What the inbox fetches for a signed request, counted at a real actor server on loopback:
a known key is refetched at most once per interval however many signatures fail, a key
on another origin than the actor is refused without a fetch, and unknown actors of one
host are fetched within its token bucket (then 401 with Retry-After)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from quart.typing import TestClientProtocol as Client

from federation import signatures
from stgy.config import Config, load_config
from stgy.devservices import free_port
from stgy.services import Services
from tests.conftest import config_env, make_user, serving
from tests.integration.test_inbox import _key_pair, row_count
from tests.integration.test_inbox_fetch import (
    RemoteServer,
    fed_client,
    fed_config,
    follow_of,
    remote_server,
    send,
)

__all__ = ["fed_client", "fed_config", "remote_server"]  # fixtures used below


async def send_signed(
    client: Client, config: Config, activity: dict[str, Any], key_id: str, private_pem: str
) -> tuple[int, str | None]:
    """POST the activity to the shared inbox signed with this key; (status, Retry-After)."""
    body = orjson.dumps(activity)
    url = f"{config.instance.base_url}/inbox"
    headers = {"Content-Type": "application/activity+json"}
    headers |= signatures.sign_request("POST", url, headers, body, key_id, private_pem)
    response = await client.post("/inbox", data=body, headers=headers)
    return response.status_code, response.headers.get("Retry-After")


async def test_bad_signatures_with_a_known_key_refetch_it_once(
    fed_client: Client, fed_config: Config, services: Services, remote_server: RemoteServer
) -> None:
    user = await make_user(fed_client)
    remote_server.add_actor("erin")
    target = f"{fed_config.instance.base_url}/users/{user.handle}"
    first = follow_of(remote_server, "erin", target)
    assert await send(fed_client, fed_config, remote_server, "erin", first) == 202
    assert remote_server.fetches == 1
    key_id = f"{remote_server.base}/users/erin#main-key"
    wrong_pem, _ = _key_pair()
    for _ in range(25):
        forged = follow_of(remote_server, "erin", target)
        status, _retry = await send_signed(fed_client, fed_config, forged, key_id, wrong_pem)
        assert status == 401
        assert await row_count(services, forged) == 0
    # One refetch (the key might have been rotated), not one per failed request.
    assert remote_server.fetches == 2
    # The right key still verifies (from the stored key, nothing fetched).
    again = follow_of(remote_server, "erin", target)
    assert await send(fed_client, fed_config, remote_server, "erin", again) == 202
    assert remote_server.fetches == 2


async def test_a_key_on_another_origin_than_the_actor_is_refused_unfetched(
    fed_client: Client, fed_config: Config, services: Services, remote_server: RemoteServer
) -> None:
    remote_server.add_actor("frank")
    key_id = f"{remote_server.base}/users/frank#main-key"
    elsewhere = f"http://127.0.0.1:{free_port()}"  # the same host, another port
    for actor in (f"{elsewhere}/users/frank", "http://elsewhere.localhost/users/frank"):
        activity = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{actor}/{secrets.token_hex(6)}",
            "type": "Follow",
            "actor": actor,
            "object": f"{fed_config.instance.base_url}/users/nobody",
        }
        status, _retry = await send_signed(
            fed_client, fed_config, activity, key_id, remote_server.keys["frank"]
        )
        assert status == 401
        assert await row_count(services, activity) == 0
    assert remote_server.fetches == 0


async def test_an_unknown_actor_that_cannot_be_fetched_is_not_asked_again(
    fed_client: Client, fed_config: Config, remote_server: RemoteServer
) -> None:
    remote_server.add_actor("gina")
    private_pem = remote_server.keys.pop("gina")
    del remote_server.actors["gina"]  # the server answers 404 for her now
    key_id = f"{remote_server.base}/users/gina#main-key"
    answers = []
    for _ in range(10):
        activity = follow_of(remote_server, "gina", f"{remote_server.base}/users/x")
        answers.append(await send_signed(fed_client, fed_config, activity, key_id, private_pem))
    assert answers[0] == (401, None)  # fetched: unknown key
    for status, retry_after in answers[1:]:
        assert status == 401 and retry_after is not None
        assert 0 < int(retry_after) <= int(fed_config.federation.key_refetch_interval)
    assert remote_server.fetches == 1


@pytest.fixture
async def bucket_client(database_url: str, tmp_root: Path) -> AsyncIterator[tuple[Client, Config]]:
    """An app whose hosts may have 3 unknown actors fetched, then one every 100 minutes."""
    config = load_config(
        environ=config_env(
            database_url,
            tmp_root,
            STGY_FEDERATION_ALLOW_PRIVATE_ADDRESSES="true",
            STGY_FEDERATION_UNKNOWN_ACTOR_FETCH_BURST="3",
            STGY_FEDERATION_UNKNOWN_ACTOR_FETCHES_PER_MINUTE="0.01",
        )
    )
    async with serving(config) as app:
        yield app.test_client(), config


async def test_unknown_actors_of_one_host_are_fetched_within_its_bucket(
    bucket_client: tuple[Client, Config], services: Services, remote_server: RemoteServer
) -> None:
    client, config = bucket_client
    user = await make_user(client)
    target = f"{config.instance.base_url}/users/{user.handle}"
    answers = []
    for n in range(8):
        handle = f"h{n}"
        remote_server.add_actor(handle)
        activity = follow_of(remote_server, handle, target)
        status, retry_after = await send_signed(
            client,
            config,
            activity,
            f"{remote_server.base}/users/{handle}#main-key",
            remote_server.keys[handle],
        )
        answers.append((status, retry_after, await row_count(services, activity)))
    assert answers[:3] == [(202, None, 1)] * 3
    for status, retry_after, stored in answers[3:]:
        # 1 token in 100 minutes: wait until it is there, and store nothing meanwhile.
        assert status == 401 and stored == 0
        assert retry_after is not None and 5000 < int(retry_after) <= 6000
    assert remote_server.fetches == 3
    # Known actors are not held back by their host's empty bucket.
    activity = follow_of(remote_server, "h0", target)
    status, _ = await send_signed(
        client,
        config,
        activity,
        f"{remote_server.base}/users/h0#main-key",
        remote_server.keys["h0"],
    )
    assert status == 202 and remote_server.fetches == 3
