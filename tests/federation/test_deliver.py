"""Fetching and delivery against loopback servers, part two."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from federation.deliver import DeliveryResult, Scheme, deliver
from federation.fetch import FetchError, RemoteActor, fetch_actor, fetch_json
from tests.federation.test_fetch_deliver import (
    ACTIVITY,
    KEY_ID,
    PRIVATE_PEM,
    SIGNER,
    Reply,
    Seen,
    _ok,
    activity_json,
    actor_document,
    client,
    serve,
)


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


async def test_a_refusal_sent_before_the_body_was_read_does_not_break_the_second_knock(
    client: httpx.AsyncClient,
) -> None:
    # The inbox refuses an RFC 9421 POST off its headers, before reading its body,
    # as fediverse-pasture's http_signature does (Quart on Hypercorn). It must then
    # close the connection, and does so without a `Connection: close`, at its own
    # pace: this one as late as can be, once the client has sent more on it. The
    # second knock must not go out on that connection.
    connections: list[str] = []

    async def inbox(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
            length = int(head.split("content-length:")[1].split("\r\n")[0])
            if "signature-input:" in head:
                connections.append("refused unread")
                writer.write(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 7\r\n\r\nrefused")
                await writer.drain()
                await reader.readexactly(length + 1)  # the body, and a byte more
            else:
                connections.append("read")
                await reader.readexactly(length)
                writer.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    listening = await asyncio.start_server(inbox, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    async with listening:
        result = await send(client, f"http://127.0.0.1:{port}/inbox", "rfc9421")
    assert result == DeliveryResult(202, "cavage", retry=False, gone=False, accepted=True)
    assert connections == ["refused unread", "read"]


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
