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

from federation.deliver import DeliveryResult, Scheme, deliver
from federation.fetch import ACCEPT, FetchError, RemoteActor, Signer, fetch_actor, fetch_json
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


@pytest.mark.parametrize(("status", "gone"), [(410, True), (404, True), (500, False)])
async def test_error_statuses(
    serve: Any, client: httpx.AsyncClient, status: int, gone: bool
) -> None:
    server = await serve(lambda seen: _ok(Reply(status)))
    with pytest.raises(FetchError) as caught:
        await fetch_json(client, server.url("/x"), signer=None, allow_private=True)
    assert (caught.value.status, caught.value.gone) == (status, gone)


async def test_a_closed_port_is_a_connection_error(client: httpx.AsyncClient) -> None:
    with pytest.raises(FetchError, match="connection failed") as caught:
        await fetch_json(client, "http://127.0.0.1:1/x", signer=None, allow_private=True)
    assert not caught.value.gone


async def test_fetch_actor_reads_the_actor(serve: Any, client: httpx.AsyncClient) -> None:
    server = await serve(lambda seen: _ok(activity_json(actor_document(server.url("")))))
    actor = await fetch_actor(client, server.url("/users/bob"), signer=SIGNER, allow_private=True)
    base = server.url("")
    assert actor == RemoteActor(
        id=f"{base}/users/bob",
        type="Person",
        preferred_username="bob",
        inbox=f"{base}/users/bob/inbox",
        public_key_id=f"{base}/users/bob#main-key",
        public_key_pem="PEM",
        name="Bob",
        summary="<p>hi</p>",
        shared_inbox=f"{base}/inbox",
        outbox=f"{base}/users/bob/outbox",
        followers=f"{base}/users/bob/followers",
        following=f"{base}/users/bob/following",
        featured=f"{base}/users/bob/collections/featured",
        url=f"{base}/@bob",
        icon_url=f"{base}/avatar.png",
        image_url=f"{base}/header.png",
        manually_approves_followers=True,
        discoverable=False,
        published=datetime(2024, 5, 1, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"type": "Note"}, "invalid type"),
        ({"inbox": None}, "invalid inbox: missing"),
        ({"inbox": 42}, "invalid inbox: not an http(s) URL"),
        ({"preferredUsername": ["bob"]}, "invalid preferredUsername: not a string"),
        ({"publicKey": None}, "invalid publicKey: missing"),
        ({"publicKey": "PEM"}, "invalid publicKey: not an object"),
        ({"publicKey": {"id": "https://x/k", "owner": "https://x/u", "publicKeyPem": "P"}},
         "invalid publicKey.owner: not the actor"),
        ({"manuallyApprovesFollowers": "yes"}, "invalid manuallyApprovesFollowers"),
        ({"published": "yesterday"}, "invalid published"),
        ({"icon": {"url": 7}}, "invalid icon.url"),
        ({"endpoints": []}, "invalid endpoints"),
        ({"name": {"en": "Bob"}}, "invalid name: not a string"),
    ],
)  # fmt: skip
async def test_fetch_actor_names_the_wrong_field(
    serve: Any, client: httpx.AsyncClient, overrides: dict[str, Any], reason: str
) -> None:
    async def handler(seen: Seen) -> Reply:
        return activity_json(actor_document(server.url(""), **overrides))

    server = await serve(handler)
    with pytest.raises(FetchError) as caught:
        await fetch_actor(client, server.url("/users/bob"), signer=None, allow_private=True)
    assert caught.value.reason.startswith(reason)


# ---- deliver ----------------------------------------------------------------


async def send(client: httpx.AsyncClient, url: str, scheme: Scheme = "cavage") -> DeliveryResult:
    return await deliver(
        client, url, ACTIVITY, key_id=KEY_ID, private_key_pem=PRIVATE_PEM,
        scheme=scheme, allow_private=True, timeout=5.0,
    )  # fmt: skip


@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
async def test_delivery_is_signed_and_verified(
    serve: Any, client: httpx.AsyncClient, scheme: Scheme
) -> None:
    server = await serve(lambda seen: _ok(Reply(202 if seen.verified else 401)))
    result = await send(client, server.url("/users/bob/inbox"), scheme)
    assert result == DeliveryResult(202, scheme, retry=False, gone=False, accepted=True)
    [seen] = server.requests
    assert seen.verified is not None and seen.verified.scheme == scheme
    assert seen.body == ACTIVITY
    assert ("Content-Type", "application/activity+json") in seen.headers
    expected = {
        "cavage": ("(request-target)", "host", "date", "digest", "content-type"),
        "rfc9421": ('"@method"', '"@target-uri"', '"content-digest"'),
    }[scheme]
    assert seen.verified.covered == expected


async def test_a_401_to_cavage_knocks_again_with_rfc9421(
    serve: Any, client: httpx.AsyncClient
) -> None:
    async def handler(seen: Seen) -> Reply:
        ok = seen.verified is not None and seen.verified.scheme == "rfc9421"
        return Reply(202 if ok else 401)

    server = await serve(handler)
    result = await send(client, server.url("/inbox"), "cavage")
    assert (result.accepted, result.scheme_used, result.status) == (True, "rfc9421", 202)
    assert [s.verified.scheme for s in server.requests if s.verified] == ["cavage", "rfc9421"]


async def test_a_400_to_rfc9421_knocks_again_with_cavage(
    serve: Any, client: httpx.AsyncClient
) -> None:
    async def handler(seen: Seen) -> Reply:
        ok = seen.verified is not None and seen.verified.scheme == "cavage"
        return Reply(202 if ok else 400)

    server = await serve(handler)
    result = await send(client, server.url("/inbox"), "rfc9421")
    assert (result.accepted, result.scheme_used) == (True, "cavage")


async def test_when_both_knocks_fail_the_first_answer_is_reported(
    serve: Any, client: httpx.AsyncClient
) -> None:
    server = await serve(lambda seen: _ok(Reply(401)))
    result = await send(client, server.url("/inbox"), "cavage")
    assert result == DeliveryResult(401, "cavage", False, False, False, "HTTP 401")
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    ("status", "retry", "gone"),
    [(410, False, True), (404, False, True), (503, True, False), (429, True, False),
     (500, True, False), (403, False, False), (422, False, False)],
)  # fmt: skip
async def test_answers_are_classified(
    serve: Any, client: httpx.AsyncClient, status: int, retry: bool, gone: bool
) -> None:
    server = await serve(lambda seen: _ok(Reply(status, body=b"x" * 200_000)))
    result = await send(client, server.url("/users/bob/inbox"))
    assert (result.status, result.retry, result.gone, result.accepted) == (
        status, retry, gone, False,
    )  # fmt: skip
    assert len(server.requests) == 1


async def test_a_404_on_a_shared_inbox_is_not_gone(serve: Any, client: httpx.AsyncClient) -> None:
    server = await serve(lambda seen: _ok(Reply(404)))
    result = await deliver(
        client, server.url("/inbox"), ACTIVITY, key_id=KEY_ID, private_key_pem=PRIVATE_PEM,
        scheme="cavage", allow_private=True, shared_inbox=True,
    )  # fmt: skip
    assert (result.gone, result.retry) == (False, False)


async def test_connection_errors_and_timeouts_are_retried(
    serve: Any, client: httpx.AsyncClient
) -> None:
    refused = await send(client, "http://127.0.0.1:1/inbox")
    assert (refused.retry, refused.status, refused.accepted) == (True, None, False)

    async def slow(seen: Seen) -> Reply:
        await asyncio.sleep(2)
        return Reply(202)

    server = await serve(slow)
    result = await deliver(
        client, server.url("/inbox"), ACTIVITY, key_id=KEY_ID, private_key_pem=PRIVATE_PEM,
        scheme="cavage", allow_private=True, timeout=0.3,
    )  # fmt: skip
    assert (result.retry, result.status, result.error) == (True, None, "timed out")
