"""Mastodon's streaming API on a live instance: the WebSocket as masto.js speaks it (the
token as the subprotocol, subscribe messages, events with a `stream` array and a JSON
string payload), from the `websockets` client."""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis
import requests
from mastodon import Mastodon, StreamListener
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from stgy.domain import public_streams, streaming
from stgy.mastodon.streaming import MAX_STREAMS_PER_ACCOUNT
from tests.conftest import LiveInstance
from tests.mastodon.conftest import Person
from tests.mastodon.test_mastodon_py import logged_in_api
from tests.mastodon.test_statuses import second_api


def ws_url(live_instance: LiveInstance, query: str = "") -> str:
    return live_instance.url.replace("http://", "ws://") + "/api/v1/streaming" + query


@pytest.fixture
def redis_client(live_instance: LiveInstance) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(live_instance.config.redis.url)
    yield client
    client.close()


def subscribers(client: redis.Redis, channel: str) -> int:
    [(_, count)] = client.pubsub_numsub(channel)
    return int(count)


def wait_subscribed(client: redis.Redis, channel: str, count: int = 1) -> None:
    """Until `count` streams read the channel: the server subscribes as it reads the
    client's message, which Mastodon does not acknowledge."""
    for _ in range(200):
        if subscribers(client, channel) >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"{channel}: never {count} subscribers")


def next_event(ws: ClientConnection, event: str, timeout: float = 15.0) -> dict[str, Any]:
    """The next message with this event name (others are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        message = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        if message.get("event") == event:
            assert isinstance(message, dict)
            return message


def quiet(ws: ClientConnection, seconds: float = 1.5) -> list[dict[str, Any]]:
    """Every message that arrives within `seconds` (none expected, usually)."""
    got = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            got.append(json.loads(ws.recv(timeout=left)))
        except TimeoutError:
            break
    return got


@pytest.fixture
def apis(
    live_instance: LiveInstance,
    session: requests.Session,
    logged_in: httpx.Client,
    http: httpx.Client,
    person: Person,
) -> tuple[Mastodon, Mastodon]:
    """Two people's Mastodon.py clients: the one watching, and the other one."""
    watcher = logged_in_api(live_instance, session, logged_in)
    _, other = second_api(live_instance, session, http)
    return watcher, other


def test_websocket_as_masto_js_speaks_it(
    live_instance: LiveInstance, apis: tuple[Mastodon, Mastodon], redis_client: redis.Redis
) -> None:
    watcher, other = apis
    cfg = live_instance.config
    me = watcher.me()
    tag = "s" + uuid.uuid4().hex[:10]
    token = str(watcher.access_token)
    with connect(ws_url(live_instance), subprotocols=[token]) as ws:  # type: ignore[list-item]
        # The token sent as the subprotocol comes back as the accepted one.
        assert ws.subprotocol == token
        for body in (
            {"type": "subscribe", "stream": "user"},
            {"type": "subscribe", "stream": "hashtag", "tag": tag},
            {"type": "subscribe", "stream": "public:local"},
        ):
            ws.send(json.dumps(body))
        wait_subscribed(redis_client, streaming.user_channel(cfg, int(me["id"])))
        wait_subscribed(redis_client, public_streams.tag_channel(cfg, tag))
        wait_subscribed(redis_client, public_streams.public_channel(cfg))

        # Another account's public post with the tag: on the hashtag and local streams
        # (the watcher does not follow its author: not on `user`).
        posted = other.status_post(f"streamed #{tag}")
        seen: dict[str, dict[str, Any]] = {}
        while len(seen) < 2:
            message = next_event(ws, "update")
            seen[message["stream"][0]] = message
        assert seen["hashtag"]["stream"] == ["hashtag", tag]
        assert seen["public:local"]["stream"] == ["public:local"]
        status = json.loads(seen["hashtag"]["payload"])
        assert status["id"] == str(posted["id"]) and status["account"]["id"] == str(
            posted["account"]["id"]
        )
        assert isinstance(seen["public:local"]["payload"], str)

        # The watcher's own post reaches its home (`user`) stream too.
        mine = watcher.status_post("my own, streamed")
        streams = set()
        while streams != {"user", "public:local"}:
            message = next_event(ws, "update")
            assert json.loads(message["payload"])["id"] == str(mine["id"])
            streams.add(message["stream"][0])

        # An edit, then a deletion, reach the streams that carried the post.
        watcher.status_update(mine["id"], "my own, edited")
        edited = next_event(ws, "status.update")
        assert json.loads(edited["payload"])["content"].find("edited") >= 0
        watcher.status_delete(mine["id"])
        deleted = next_event(ws, "delete")
        assert deleted["payload"] == str(mine["id"])

        # A favourite by the other account: a notification on `user`.
        other.status_favourite(watcher.status_post("like me")["id"])
        notification = next_event(ws, "notification")
        assert notification["stream"] == ["user"]
        body = json.loads(notification["payload"])
        assert body["type"] == "favourite" and body["account"]["id"] == str(other.me()["id"])
        # The same group as the notification's in the API (not a stream-only one).
        assert body["group_key"].startswith("favourite-")
        assert body["group_key"] == watcher.notifications(limit=1)[0]["group_key"]

        # Unsubscribed from the tag: its posts no longer come (the local stream's do).
        ws.send(json.dumps({"type": "unsubscribe", "stream": "hashtag", "tag": tag}))
        for _ in range(200):
            if subscribers(redis_client, public_streams.tag_channel(cfg, tag)) == 0:
                break
            time.sleep(0.05)
        after = str(other.status_post(f"after unsubscribing #{tag}")["id"])
        got = []
        while not any(json.loads(m.get("payload", "{}")).get("id") == after for m in got):
            got.append(next_event(ws, "update"))
        got += quiet(ws)
        streams = {
            m["stream"][0]
            for m in got
            if m["event"] == "update" and json.loads(m["payload"])["id"] == after
        }
        assert streams == {"public:local"}


def test_websocket_refusals_and_errors(
    live_instance: LiveInstance, apis: tuple[Mastodon, Mastodon]
) -> None:
    watcher, _ = apis
    # A bad token: refused before the upgrade, with Mastodon's 401.
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url(live_instance), subprotocols=["not-a-token"])  # type: ignore[list-item]
    assert refused.value.response.status_code == 401
    with pytest.raises(InvalidStatus) as unknown:
        connect(ws_url(live_instance, f"?stream=nope&access_token={watcher.access_token}"))
    assert unknown.value.response.status_code == 400

    # Bad messages: an error message each, and the socket stays open.
    query = f"?stream=user&access_token={watcher.access_token}"
    with connect(ws_url(live_instance, query)) as ws:
        for sent, error in (
            ("not json", "Could not parse message"),
            (json.dumps({"type": "subscribe", "stream": "nope"}), "Unknown stream type"),
            (json.dumps({"type": "subscribe", "stream": "hashtag"}), "No tag for stream provided"),
            (json.dumps({"type": "dance"}), "Unknown message type"),
            (json.dumps({"type": "subscribe", "stream": "list", "list": "1"}), None),
        ):
            ws.send(sent)
            answer = json.loads(ws.recv(timeout=10))
            assert answer["status"] in (400, 401)
            if error is not None:
                assert answer["error"] == error


def test_visibility_on_the_public_stream(
    live_instance: LiveInstance, apis: tuple[Mastodon, Mastodon], redis_client: redis.Redis
) -> None:
    watcher, other = apis
    cfg = live_instance.config
    query = f"?stream=public&access_token={watcher.access_token}"
    with connect(ws_url(live_instance, query)) as ws:
        wait_subscribed(redis_client, public_streams.public_channel(cfg))
        # A followers-only post never reaches the public stream; the public one after
        # it does, and comes first.
        other.status_post("followers only", visibility="private")
        public = other.status_post("for everyone")
        first = next_event(ws, "update")
        assert first["stream"] == ["public"]
        assert json.loads(first["payload"])["id"] == str(public["id"])

        # Once the watcher blocks the author, its posts stop; a third account's come.
        watcher.account_block(other.me()["id"])
        other.status_post("from the blocked account")
        assert quiet(ws) == []


class Collected(StreamListener):
    """What Mastodon.py's stream hands its listener."""

    def __init__(self) -> None:
        self.updates: list[dict[str, Any]] = []
        self.notifications: list[dict[str, Any]] = []
        self.deletes: list[int] = []

    def on_update(self, status: dict[str, Any]) -> None:
        self.updates.append(status)

    def on_notification(self, notification: dict[str, Any]) -> None:
        self.notifications.append(notification)

    def on_delete(self, status_id: int) -> None:
        self.deletes.append(status_id)


def until(check: Any, what: str) -> None:
    for _ in range(300):
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


def test_server_sent_events_through_mastodon_py(
    live_instance: LiveInstance, apis: tuple[Mastodon, Mastodon], redis_client: redis.Redis
) -> None:
    watcher, other = apis
    cfg = live_instance.config
    me = watcher.me()
    tag = "m" + uuid.uuid4().hex[:10]
    user, public, tagged = Collected(), Collected(), Collected()
    handles = [
        watcher.stream_user(user, run_async=True),
        watcher.stream_public(public, run_async=True, local=True),
        watcher.stream_hashtag(tag, tagged, run_async=True),
    ]
    try:
        wait_subscribed(redis_client, streaming.user_channel(cfg, int(me["id"])))
        wait_subscribed(redis_client, public_streams.public_channel(cfg))
        wait_subscribed(redis_client, public_streams.tag_channel(cfg, tag))
        posted = other.status_post(f"over SSE #{tag}")
        until(lambda: tagged.updates and public.updates, "the tag and local updates")
        assert tagged.updates[0]["id"] == posted["id"]
        assert any(s["id"] == posted["id"] for s in public.updates)

        mine = watcher.status_post("mine, over SSE")
        until(lambda: any(s["id"] == mine["id"] for s in user.updates), "the home update")
        other.status_favourite(mine["id"])
        until(lambda: user.notifications, "the notification")
        assert user.notifications[0]["type"] == "favourite"
        watcher.status_delete(mine["id"])
        until(lambda: mine["id"] in user.deletes, "the deletion")
        assert user.updates[0]["account"]["id"] == me["id"]
    finally:
        for handle in handles:
            handle.close()


def test_streams_are_capped_and_leave_nothing_behind(
    live_instance: LiveInstance, apis: tuple[Mastodon, Mastodon], redis_client: redis.Redis
) -> None:
    watcher, _ = apis
    channel = public_streams.public_channel(live_instance.config)
    base = subscribers(redis_client, channel)
    base_pubsub = len(redis_client.client_list(_type="pubsub"))
    query = f"?stream=public:local&access_token={watcher.access_token}"
    cap = MAX_STREAMS_PER_ACCOUNT

    # Opened and dropped many times over, without closing handshakes (the client just
    # goes), over the WebSocket and as server-sent events.
    for _ in range(3):
        # No keepalive pings: these sockets are dropped, never closed.
        sockets = [connect(ws_url(live_instance, query), ping_interval=None) for _ in range(cap)]
        wait_subscribed(redis_client, channel, base + cap)
        # One stream too many for the account: refused.
        with pytest.raises(InvalidStatus) as refused:
            connect(ws_url(live_instance, query))
        assert refused.value.response.status_code == 429
        for ws in sockets:
            # Dropped: no closing handshake (the client thread's read still holds the
            # socket, so shut it down for the server to see the end at once).
            ws.socket.shutdown(socket.SHUT_RDWR)
            ws.socket.close()
        wait_unsubscribed(redis_client, channel, base)
    headers = {"Authorization": f"Bearer {watcher.access_token}"}
    with httpx.Client(base_url=live_instance.url, timeout=30, headers=headers) as http:
        for _ in range(cap * 2):
            with http.stream("GET", "/api/v1/streaming/public/local") as answer:
                assert answer.status_code == 200
                assert answer.headers["content-type"].startswith("text/event-stream")
                assert next(answer.iter_lines()) == ":)"
        wait_unsubscribed(redis_client, channel, base)
        # Every stream's Redis connection was closed with it.
        for _ in range(200):
            if len(redis_client.client_list(_type="pubsub")) <= base_pubsub:
                break
            time.sleep(0.05)
        assert len(redis_client.client_list(_type="pubsub")) <= base_pubsub
        assert http.get("/api/v1/streaming/health").text == "OK"


def wait_unsubscribed(client: redis.Redis, channel: str, count: int) -> None:
    for _ in range(300):
        if subscribers(client, channel) <= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"{channel}: still {subscribers(client, channel)} subscribers")


def test_direct_and_notification_streams(
    live_instance: LiveInstance, apis: tuple[Mastodon, Mastodon], redis_client: redis.Redis
) -> None:
    watcher, other = apis
    me = watcher.me()
    with connect(ws_url(live_instance), subprotocols=[str(watcher.access_token)]) as ws:  # type: ignore[list-item]
        ws.send(json.dumps({"type": "subscribe", "stream": "direct"}))
        ws.send(json.dumps({"type": "subscribe", "stream": "user:notification"}))
        channel = streaming.user_channel(live_instance.config, int(me["id"]))
        wait_subscribed(redis_client, channel)
        # Both use the person's channel: one Redis subscription for the two streams.
        time.sleep(0.5)
        assert subscribers(redis_client, channel) == 1

        secret = other.status_post(f"@{me['acct']} between us", visibility="direct")
        # The mention's notification and the conversation, in either order.
        got: dict[str, dict[str, Any]] = {}
        while len(got) < 2:
            message = json.loads(ws.recv(timeout=15))
            got[message["event"]] = message
        conversation, mention = got["conversation"], got["notification"]
        assert conversation["stream"] == ["direct"]
        body = json.loads(conversation["payload"])
        assert body["last_status"]["id"] == str(secret["id"])
        assert [a["id"] for a in body["accounts"]] == [str(other.me()["id"])]
        assert body["unread"] is True

        assert mention["stream"] == ["user:notification"]
        assert json.loads(mention["payload"])["type"] == "mention"
        # Neither stream carries home updates (the direct post is on `user` only).
        watcher.status_post("not for these streams")
        assert [m["event"] for m in quiet(ws)] == []


def test_server_sent_events_refusals(
    live_instance: LiveInstance, apis: tuple[Mastodon, Mastodon]
) -> None:
    watcher, _ = apis
    headers = {"Authorization": f"Bearer {watcher.access_token}"}
    with httpx.Client(base_url=live_instance.url, timeout=30) as http:
        assert http.get("/api/v1/streaming/user").status_code == 401
        bad = http.get("/api/v1/streaming/user", headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 401 and bad.json()["error"]
        unknown = http.get("/api/v1/streaming/everything", headers=headers)
        assert unknown.status_code == 400
        assert unknown.json() == {"error": "Unknown stream type"}
        no_tag = http.get("/api/v1/streaming/hashtag", headers=headers)
        assert no_tag.status_code == 400 and no_tag.json()["error"] == "No tag for stream provided"
        assert http.get("/api/v1/streaming/list?list=1", headers=headers).status_code == 401
        # Without an upgrade: 404, as Mastodon answers when streaming is on its own host.
        assert http.get("/api/v1/streaming", headers=headers).status_code == 404
