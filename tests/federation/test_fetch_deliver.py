"""Signed fetch and delivery against real HTTP servers on loopback that verify what we send."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from federation.deliver import deliver
from federation.fetch import ACCEPT, FetchError, Signer, fetch_json
from federation.signatures import SignatureError, VerifiedSignature, verify_request
from federation.ssrf import GuardedTransport

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PRIVATE_PEM = KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
PUBLIC_PEM = (
    KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)
KEY_ID = "https://stgy.example/users/alice#main-key"
SIGNER = Signer(KEY_ID, PRIVATE_PEM)
ACTIVITY = json.dumps({"id": "https://stgy.example/a/1", "type": "Follow"}).encode()


@dataclass
class Seen:
    """A request as the test server received it, and what verifying its signature gave."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes
    verified: VerifiedSignature | None = None
    refused: str | None = None


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    content_length: bool = True


Handler = Callable[[Seen], Awaitable[Reply]]


async def resolve_key(key_id: str, refresh: bool) -> str | None:
    return PUBLIC_PEM if key_id == KEY_ID else None


class Server:
    """A minimal HTTP/1.1 server on loopback that verifies each request's signature, if signed."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Seen] = []
        self.port = 0
        self.tasks: set[asyncio.Task[None]] = set()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)
        try:
            request_line = await reader.readline()
            if not request_line:
                return
            method, target, _version = request_line.decode("latin-1").split(" ", 2)
            headers = []
            while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                name, value = line.decode("latin-1").split(":", 1)
                headers.append((name.strip(), value.strip()))
            length = int(dict((k.lower(), v) for k, v in headers).get("content-length", "0"))
            body = await reader.readexactly(length) if length else b""
            seen = Seen(method, target, headers, body)
            if any(name.lower() == "signature" for name, _ in headers):
                try:
                    seen.verified = await verify_request(
                        method, target, headers, body or None, resolve_key,
                        now=datetime.now(UTC), scheme="http",
                    )  # fmt: skip
                except SignatureError as error:
                    seen.refused = error.reason
            self.requests.append(seen)
            reply = await self.handler(seen)
            head = [f"HTTP/1.1 {reply.status} Whatever", "Connection: close"]
            head += [f"{name}: {value}" for name, value in reply.headers.items()]
            if reply.content_length:
                head.append(f"Content-Length: {len(reply.body)}")
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + reply.body)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[Server]]]:
    servers: list[tuple[Server, asyncio.Server]] = []

    async def start(handler: Handler) -> Server:
        server = Server(handler)
        listening = await asyncio.start_server(server.serve, "127.0.0.1", 0)
        server.port = listening.sockets[0].getsockname()[1]
        servers.append((server, listening))
        return server

    yield start
    for server, listening in servers:
        listening.close()
        await listening.wait_closed()
        for task in server.tasks:
            task.cancel()
        await asyncio.gather(*server.tasks, return_exceptions=True)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=GuardedTransport(allow_private=True)) as http:
        yield http


def activity_json(document: dict[str, Any], status: int = 200) -> Reply:
    return Reply(
        status, {"Content-Type": "application/activity+json"}, json.dumps(document).encode()
    )


def actor_document(base: str, **overrides: Any) -> dict[str, Any]:
    actor_id = f"{base}/users/bob"
    document = {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": actor_id,
        "type": "Person",
        "preferredUsername": "bob",
        "name": "Bob",
        "summary": "<p>hi</p>",
        "inbox": f"{actor_id}/inbox",
        "outbox": f"{actor_id}/outbox",
        "followers": f"{actor_id}/followers",
        "following": f"{actor_id}/following",
        "featured": f"{actor_id}/collections/featured",
        "url": f"{base}/@bob",
        "icon": {"type": "Image", "mediaType": "image/png", "url": f"{base}/avatar.png"},
        "image": {"type": "Image", "url": f"{base}/header.png"},
        "endpoints": {"sharedInbox": f"{base}/inbox"},
        "manuallyApprovesFollowers": True,
        "discoverable": False,
        "published": "2024-05-01T00:00:00Z",
        "publicKey": {"id": f"{actor_id}#main-key", "owner": actor_id, "publicKeyPem": "PEM"},
    }
    return document | overrides


# ---- fetch ------------------------------------------------------------------


async def test_signed_fetch_is_verified_by_the_server(
    serve: Any, client: httpx.AsyncClient
) -> None:
    async def handler(seen: Seen) -> Reply:
        if seen.verified is None:
            return Reply(401)
        return activity_json({"id": server.url("/notes/1"), "type": "Note"})

    server = await serve(handler)
    document = await fetch_json(client, server.url("/notes/1"), signer=SIGNER, allow_private=True)
    assert document == {"id": server.url("/notes/1"), "type": "Note"}
    [seen] = server.requests
    assert seen.verified is not None and seen.refused is None
    assert seen.verified.key_id == KEY_ID
    assert seen.verified.scheme == "cavage"
    assert seen.verified.covered == ("(request-target)", "host", "date")
    assert ("Accept", ACCEPT) in seen.headers


async def test_unsigned_fetch_sends_no_signature(serve: Any, client: httpx.AsyncClient) -> None:
    server = await serve(lambda seen: _ok(activity_json({"id": server.url("/x")})))
    await fetch_json(client, server.url("/x"), signer=None, allow_private=True)
    assert [name.lower() for name, _ in server.requests[0].headers].count("signature") == 0


async def _ok(reply: Reply) -> Reply:
    return reply


async def test_redirects_are_followed_and_the_final_url_checks_the_id(
    serve: Any, client: httpx.AsyncClient
) -> None:
    final = await serve(lambda seen: _ok(activity_json({"id": final.url("/objects/1")})))
    hop = await serve(lambda seen: _ok(Reply(302, {"Location": final.url("/objects/1")})))
    start = await serve(lambda seen: _ok(Reply(301, {"Location": hop.url("/moved")})))
    document = await fetch_json(client, start.url("/o/1"), signer=SIGNER, allow_private=True)
    assert document["id"] == final.url("/objects/1")
    # Every hop is signed for its own URL.
    assert all(s.verified is not None for s in start.requests + hop.requests + final.requests)


async def test_more_than_three_redirects_is_an_error(serve: Any, client: httpx.AsyncClient) -> None:
    async def handler(seen: Seen) -> Reply:
        return Reply(302, {"Location": f"/loop{len(server.requests)}"})

    server = await serve(handler)
    with pytest.raises(FetchError, match="too many redirects"):
        await fetch_json(client, server.url("/loop0"), signer=None, allow_private=True)
    assert len(server.requests) == 4  # the first request and three redirects


async def test_each_redirect_is_checked_before_it_is_followed(
    serve: Any, client: httpx.AsyncClient
) -> None:
    inner = await serve(lambda seen: _ok(activity_json({"id": inner.url("/secret")})))
    for location, reason in [
        (f"http://admin:pw@127.0.0.1:{inner.port}/secret", "unsafe target: userinfo"),
        ("file:///etc/passwd", "unsafe target: scheme file not allowed"),
        ("gopher://127.0.0.1:70/", "unsafe target: scheme gopher not allowed"),
    ]:
        start = await serve(lambda seen, location=location: _ok(Reply(302, {"Location": location})))
        with pytest.raises(FetchError, match=reason):
            await fetch_json(client, start.url("/o"), signer=None, allow_private=True)
        assert len(start.requests) == 1
    assert inner.requests == []


async def test_ssrf_guard_refuses_private_targets_without_any_request(
    serve: Any, client: httpx.AsyncClient
) -> None:
    server = await serve(lambda seen: _ok(activity_json({"id": server.url("/x")})))
    for url in (server.url("/x"), server.url("/x").replace("http:", "https:")):
        with pytest.raises(FetchError) as caught:
            await fetch_json(client, url, signer=SIGNER, allow_private=False)
        assert caught.value.reason.startswith("unsafe target:")
    with pytest.raises(FetchError, match="10.0.0.1, a private address"):
        await fetch_json(client, "https://10.0.0.1/x", signer=SIGNER, allow_private=False)
    result = await deliver(
        client, "https://127.0.0.1:1/inbox", ACTIVITY,
        key_id=KEY_ID, private_key_pem=PRIVATE_PEM, scheme="cavage", allow_private=False,
    )  # fmt: skip
    assert (result.accepted, result.retry, result.status) == (False, False, None)
    assert result.error == "unsafe target: 127.0.0.1 resolves to 127.0.0.1, a loopback address"
    assert server.requests == []


async def test_a_body_over_the_cap_is_refused(serve: Any, client: httpx.AsyncClient) -> None:
    big = json.dumps({"id": "x", "padding": "a" * 5000}).encode()
    declared = await serve(lambda seen: _ok(Reply(200, {"Content-Type": "application/json"}, big)))
    streamed = await serve(
        lambda seen: _ok(Reply(200, {"Content-Type": "application/json"}, big, False))
    )
    for server in (declared, streamed):
        with pytest.raises(FetchError, match="too large"):
            await fetch_json(
                client, server.url("/big"), signer=None, allow_private=True, max_bytes=4096
            )


async def test_a_body_within_the_cap_without_length_is_read(
    serve: Any, client: httpx.AsyncClient
) -> None:
    async def handler(seen: Seen) -> Reply:
        body = json.dumps({"id": server.url("/n")}).encode()
        return Reply(200, {"Content-Type": "application/ld+json; profile=x"}, body, False)

    server = await serve(handler)
    document = await fetch_json(client, server.url("/n"), signer=None, allow_private=True)
    assert document == {"id": server.url("/n")}


@pytest.mark.parametrize("content_type", ["text/html", "application/xml", ""])
async def test_a_wrong_content_type_is_refused(
    serve: Any, client: httpx.AsyncClient, content_type: str
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    server = await serve(lambda seen: _ok(Reply(200, headers, b'{"id": "x"}')))
    with pytest.raises(FetchError, match="wrong content type"):
        await fetch_json(client, server.url("/x"), signer=None, allow_private=True)


async def test_an_id_on_another_host_is_refused(serve: Any, client: httpx.AsyncClient) -> None:
    other = await serve(lambda seen: _ok(Reply(404)))
    for claimed in ("https://victim.example/notes/1", other.url("/notes/1")):
        server = await serve(lambda seen, claimed=claimed: _ok(activity_json({"id": claimed})))
        with pytest.raises(FetchError, match="id host mismatch"):
            await fetch_json(client, server.url("/notes/1"), signer=None, allow_private=True)


@pytest.mark.parametrize("body", [b"[1, 2]", b"not json", b'{"type": "Note"}'])
async def test_a_body_that_is_not_an_object_with_an_id_is_refused(
    serve: Any, client: httpx.AsyncClient, body: bytes
) -> None:
    server = await serve(lambda seen: _ok(Reply(200, {"Content-Type": "application/json"}, body)))
    with pytest.raises(FetchError, match="not JSON|not a JSON object|id missing"):
        await fetch_json(client, server.url("/x"), signer=None, allow_private=True)
