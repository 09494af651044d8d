"""The `list` stream: a list's new statuses (as its timeline takes them: members, replies
policy), their edits and deletions, on the WebSocket; someone else's list refused."""

from __future__ import annotations

import json

import httpx
import redis
import requests
from websockets.sync.client import connect

from stgy.domain import public_streams
from tests.conftest import LiveInstance
from tests.mastodon.conftest import Person
from tests.mastodon.test_mastodon_py import logged_in_api
from tests.mastodon.test_statuses import second_api
from tests.mastodon.test_streaming import (
    next_event,
    quiet,
    redis_client,  # noqa: F401 - a fixture
    wait_subscribed,
    ws_url,
)


def test_a_list_stream(
    live_instance: LiveInstance,
    session: requests.Session,
    logged_in: httpx.Client,
    http: httpx.Client,
    person: Person,
    redis_client: redis.Redis,  # noqa: F811 - the fixture imported above
) -> None:
    owner = logged_in_api(live_instance, session, logged_in)
    member, member_api = second_api(live_instance, session, http)
    outsider, outsider_api = second_api(live_instance, session, http)
    owner.account_follow(member.id)
    owner.account_follow(outsider.id)
    listed = owner.list_create("streamed friends")
    owner.list_accounts_add(listed["id"], [member.id])
    channel = public_streams.list_channel(live_instance.config, int(listed["id"]))
    query = f"?stream=list&list={listed['id']}&access_token={owner.access_token}"
    with connect(ws_url(live_instance, query)) as ws:
        wait_subscribed(redis_client, channel)
        # The outsider's post is not the list's; the member's is, on ["list", id].
        outsider_api.status_post("not on the list")
        posted = member_api.status_post("on the list")
        update = next_event(ws, "update")
        assert update["stream"] == ["list", str(listed["id"])]
        assert json.loads(update["payload"])["id"] == str(posted["id"])
        member_api.status_update(posted["id"], "on the list, edited")
        edited = next_event(ws, "status.update")
        assert "edited" in json.loads(edited["payload"])["content"]
        member_api.status_delete(posted["id"])
        deleted = next_event(ws, "delete")
        assert deleted["payload"] == str(posted["id"])
        assert [m for m in quiet(ws, 1.0) if m.get("event") == "update"] == []

    # Someone else's list, and a list that does not exist: refused on the socket.
    query = f"?stream=user&access_token={member_api.access_token}"
    with connect(ws_url(live_instance, query)) as ws:
        for list_id in (str(listed["id"]), "999999999"):
            ws.send(json.dumps({"type": "subscribe", "stream": "list", "list": list_id}))
            answer = json.loads(ws.recv(timeout=10))
            assert answer == {"error": "Not authorized to stream this list", "status": 401}
