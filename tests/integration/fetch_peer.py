"""A Mastodon-shaped server on loopback for the fetch side: WebFinger, actors, outboxes,
notes and their replies collections, in the shapes Mastodon serves them.

Every GET but WebFinger must carry a valid HTTP signature by our instance actor (the
server checks it with `federation.signatures` and answers 401 otherwise, as Mastodon in
secure mode does), so a passing test also shows our fetches are signed.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from hypercorn.asyncio import serve
from hypercorn.config import Config as HypercornConfig
from quart import Quart, Response, request
from quart.typing import TestClientProtocol as Client

from federation import signatures
from federation.httpsig import SignatureError
from stgy.app import create_app
from stgy.config import Config, load_config
from stgy.devservices import free_port
from stgy.domain.remote.activitypub import instance_key
from stgy.services import Services
from tests.conftest import config_env
from tests.integration.test_inbox import _key_pair

AS = "https://www.w3.org/ns/activitystreams"
PUBLIC = f"{AS}#Public"
OUTBOX_PAGE = 10
REPLIES_PAGE = 20
ACTIVITY_JSON = "application/activity+json; charset=utf-8"


@dataclass
class Peer:
    base: str
    actors: dict[str, dict[str, Any]] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)  # handle -> private PEM
    notes: dict[str, dict[str, Any]] = field(default_factory=dict)  # path -> Note
    outboxes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # newest first
    replies: dict[str, list[str]] = field(default_factory=dict)  # note id -> reply ids
    requests: list[str] = field(default_factory=list)  # paths asked for
    refused: list[str] = field(default_factory=list)  # paths answered 401 (unsigned, bad)
    verify_key: tuple[str, str] | None = None  # (key id, public PEM) fetches must be signed with
    clock: datetime = field(default_factory=lambda: datetime.now(UTC) - timedelta(days=30))

    @property
    def host(self) -> str:
        return self.base.removeprefix("http://")

    def actor_id(self, handle: str) -> str:
        return f"{self.base}/users/{handle}"

    def add_actor(self, handle: str, *, name: str | None = None) -> str:
        actor_id = self.actor_id(handle)
        private_pem, public_pem = _key_pair()
        self.keys[handle] = private_pem
        self.outboxes.setdefault(handle, [])
        self.actors[handle] = {
            "@context": [AS, "https://w3id.org/security/v1"],
            "id": actor_id,
            "type": "Person",
            "following": f"{actor_id}/following",
            "followers": f"{actor_id}/followers",
            "inbox": f"{actor_id}/inbox",
            "outbox": f"{actor_id}/outbox",
            "featured": f"{actor_id}/collections/featured",
            "preferredUsername": handle,
            "name": name or handle.title(),
            "summary": "<p>hello</p>",
            "url": f"{self.base}/@{handle}",
            "manuallyApprovesFollowers": False,
            "discoverable": True,
            "published": "2024-01-01T00:00:00Z",
            "publicKey": {
                "id": f"{actor_id}#main-key",
                "owner": actor_id,
                "publicKeyPem": public_pem,
            },
            "endpoints": {"sharedInbox": f"{self.base}/inbox"},
        }
        return actor_id

    def add_note(
        self,
        handle: str,
        text: str,
        *,
        in_reply_to: str | None = None,
        visibility: str = "public",
        in_outbox: bool = True,
    ) -> str:
        """A Note as Mastodon serves it; its Create goes on top of the author's outbox."""
        self.clock += timedelta(minutes=1)
        number = secrets.randbelow(10**15)
        actor_id = self.actor_id(handle)
        note_id = f"{actor_id}/statuses/{number}"
        followers = f"{actor_id}/followers"
        to, cc = {
            "public": ([PUBLIC], [followers]),
            "unlisted": ([followers], [PUBLIC]),
            "followers": ([followers], []),
        }[visibility]
        published = self.clock.strftime("%Y-%m-%dT%H:%M:%SZ")
        note = {
            "@context": [AS, {"sensitive": "as:sensitive"}],
            "id": note_id,
            "type": "Note",
            "summary": None,
            "inReplyTo": in_reply_to,
            "published": published,
            "url": f"{self.base}/@{handle}/{number}",
            "attributedTo": actor_id,
            "to": to,
            "cc": cc,
            "sensitive": False,
            "conversation": f"tag:{self.host},2024:objectId={number}:objectType=Conversation",
            "content": f"<p>{text}</p>",
            "contentMap": {"en": f"<p>{text}</p>"},
            "attachment": [],
            "tag": [],
            "replies": {
                "id": f"{note_id}/replies",
                "type": "Collection",
                "first": {
                    "type": "CollectionPage",
                    "next": f"{note_id}/replies?only_other_accounts=true&page=true",
                    "partOf": f"{note_id}/replies",
                    "items": [],
                },
            },
        }
        self.notes[note_id.removeprefix(self.base)] = note
        self.replies.setdefault(note_id, [])
        if in_reply_to is not None and in_reply_to in self.replies:
            self.replies[in_reply_to].append(note_id)
        if in_outbox:
            create = {
                "id": f"{note_id}/activity",
                "type": "Create",
                "actor": actor_id,
                "published": published,
                "to": to,
                "cc": cc,
                "object": {k: v for k, v in note.items() if k != "@context"},
            }
            self.outboxes[handle].insert(0, create)
        return note_id

    def add_announce(self, handle: str, object_id: str) -> None:
        actor_id = self.actor_id(handle)
        self.outboxes[handle].insert(
            0,
            {
                "id": f"{actor_id}/statuses/{secrets.randbelow(10**15)}/activity",
                "type": "Announce",
                "actor": actor_id,
                "to": [PUBLIC],
                "object": object_id,
            },
        )

    def count(self, fragment: str) -> int:
        return sum(1 for path in self.requests if fragment in path)


def _json(body: dict[str, Any], status: int = 200) -> Response:
    return Response(orjson.dumps(body), status=status, content_type=ACTIVITY_JSON)


def make_peer_app(peer: Peer) -> Quart:
    app = Quart("peer")

    @app.before_request
    async def check_signature() -> Response | None:
        query = request.query_string.decode()
        path = request.path + (f"?{query}" if query else "")
        peer.requests.append(path)
        if request.path.startswith("/.well-known/") or peer.verify_key is None:
            return None
        key_id, pem = peer.verify_key

        async def resolve(wanted: str, refresh: bool) -> str | None:
            return pem if wanted == key_id else None

        try:
            await signatures.verify_request(
                request.method,
                path,
                list(request.headers.items()),
                None,
                resolve,
                now=datetime.now(UTC),
                scheme="http",
            )
        except SignatureError as exc:
            peer.refused.append(path)
            return Response(exc.reason, status=401)
        return None

    @app.get("/.well-known/webfinger")
    async def webfinger() -> Response:
        resource = request.args.get("resource", "")
        handle = resource.removeprefix("acct:").rpartition("@")[0]
        if handle not in peer.actors:
            return Response("", status=404)
        body = {
            "subject": f"acct:{handle}@{peer.host}",
            "aliases": [f"{peer.base}/@{handle}", peer.actor_id(handle)],
            "links": [
                {
                    "rel": "http://webfinger.net/rel/profile-page",
                    "type": "text/html",
                    "href": f"{peer.base}/@{handle}",
                },
                {"rel": "self", "type": "application/activity+json", "href": peer.actor_id(handle)},
            ],
        }
        return Response(orjson.dumps(body), content_type="application/jrd+json; charset=utf-8")

    @app.get("/users/<handle>")
    async def actor(handle: str) -> Response:
        if handle not in peer.actors:
            return Response("", status=404)
        return _json(peer.actors[handle])

    @app.get("/users/<handle>/outbox")
    async def outbox(handle: str) -> Response:
        if handle not in peer.outboxes:
            return Response("", status=404)
        items = peer.outboxes[handle]
        collection = f"{peer.actor_id(handle)}/outbox"
        if request.args.get("page") != "true":
            return _json(
                {
                    "@context": AS,
                    "id": collection,
                    "type": "OrderedCollection",
                    "totalItems": len(items),
                    "first": f"{collection}?page=true",
                    "last": f"{collection}?min_id=0&page=true",
                }
            )
        start = int(request.args.get("offset", "0"))
        page = items[start : start + OUTBOX_PAGE]
        body: dict[str, Any] = {
            "@context": AS,
            "id": f"{collection}?page=true" + (f"&offset={start}" if start else ""),
            "type": "OrderedCollectionPage",
            "partOf": collection,
            "orderedItems": page,
        }
        if start + OUTBOX_PAGE < len(items):
            body["next"] = f"{collection}?page=true&offset={start + OUTBOX_PAGE}"
        return _json(body)

    @app.get("/users/<handle>/statuses/<number>")
    async def note(handle: str, number: str) -> Response:
        found = peer.notes.get(f"/users/{handle}/statuses/{number}")
        return _json(found) if found else Response("", status=404)

    @app.get("/users/<handle>/statuses/<number>/replies")
    async def replies(handle: str, number: str) -> Response:
        note_id = f"{peer.actor_id(handle)}/statuses/{number}"
        if note_id not in peer.replies or request.args.get("page") != "true":
            return Response("", status=404)
        start = int(request.args.get("offset", "0"))
        items = peer.replies[note_id][start : start + REPLIES_PAGE]
        here = f"{note_id}/replies?only_other_accounts=true&page=true"
        body: dict[str, Any] = {
            "@context": AS,
            "id": here + (f"&offset={start}" if start else ""),
            "type": "CollectionPage",
            "partOf": f"{note_id}/replies",
            "items": items,
        }
        if start + REPLIES_PAGE < len(peer.replies[note_id]):
            body["next"] = f"{here}&offset={start + REPLIES_PAGE}"
        return _json(body)

    return app


@pytest.fixture
async def peer(fed_services: Services) -> AsyncIterator[Peer]:
    port = free_port()
    server = Peer(f"http://127.0.0.1:{port}")
    key = await instance_key(fed_services)
    server.verify_key = (key.key_id, key.public_pem)
    config = HypercornConfig()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    config.errorlog = None
    stop = asyncio.Event()
    app = make_peer_app(server)
    task = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))  # type: ignore[arg-type]
    async with httpx.AsyncClient() as probe:
        for _ in range(100):
            try:
                await probe.get(f"{server.base}/.well-known/webfinger")
                break
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    server.requests.clear()
    yield server
    stop.set()
    await task


@pytest.fixture
def fed_config(database_url: str, tmp_root: Path) -> Config:
    return load_config(
        environ=config_env(database_url, tmp_root, STGY_FEDERATION_ALLOW_PRIVATE_ADDRESSES="true")
    )


@pytest.fixture
async def fed_services(fed_config: Config) -> AsyncIterator[Services]:
    started = await Services.start(fed_config)
    yield started
    await started.close()


@pytest.fixture
async def fed_client(fed_config: Config) -> AsyncIterator[Client]:
    app = create_app(fed_config)
    async with app.test_app():
        yield app.test_client()
