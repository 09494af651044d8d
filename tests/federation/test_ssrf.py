"""The SSRF guard: the URLs and addresses it refuses; the guarded transport."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Sequence

import httpx
import pytest

from federation.lookup import lookup_scheme
from federation.ssrf import (
    AddressScope,
    GuardedTransport,
    ResolvedTarget,
    UnsafeTarget,
    check_address,
    check_url,
)


def resolving_to(*addresses: str) -> FakeResolver:
    return FakeResolver(list(addresses))


class FakeResolver:
    """A resolver that answers every name with the same addresses, and records the names."""

    def __init__(self, addresses: list[str]) -> None:
        self.addresses = addresses
        self.asked: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.asked.append((host, port))
        return self.addresses


PUBLIC = resolving_to("93.184.215.14")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://127.0.0.1/x", "a loopback address"),
        ("https://10.0.0.1/x", "a private address"),
        ("https://192.168.1.1/x", "a private address"),
        ("https://169.254.169.254/latest/meta-data/", "a link-local address"),
        ("https://[::1]/x", "a loopback address"),
        ("https://[::ffff:127.0.0.1]/x", "the IPv4-mapped form of a loopback address"),
        ("https://[::ffff:10.1.2.3]/x", "the IPv4-mapped form of a private address"),
        ("https://[2002:7f00:1::]/x", "the 6to4 form of a loopback address"),
        ("https://[64:ff9b::a9fe:a9fe]/x", "the NAT64 form of a link-local address"),
        ("https://0.0.0.0/x", "an unspecified address"),
        ("https://[::]/x", "an unspecified address"),
        ("https://224.0.0.1/x", "a multicast address"),
        ("https://240.0.0.1/x", "a reserved address"),
        ("https://[fc00::1]/x", "a private address"),
        ("https://[fe80::1]/x", "a link-local address"),
        ("https://100.64.0.1/x", "not a globally routable address"),
    ],
)
async def test_refuses_addresses_that_are_not_public(url: str, reason: str) -> None:
    with pytest.raises(UnsafeTarget) as caught:
        await check_url(url, allow_private=False, resolver=PUBLIC)
    assert caught.value.reason.endswith(reason)
    assert PUBLIC.asked == []  # a literal address is not looked up


async def test_refuses_a_name_resolving_to_loopback() -> None:
    resolver = resolving_to("127.0.0.1")
    with pytest.raises(UnsafeTarget) as caught:
        await check_url("https://innocent.example/x", allow_private=False, resolver=resolver)
    assert caught.value.reason == "innocent.example resolves to 127.0.0.1, a loopback address"
    assert resolver.asked == [("innocent.example", 443)]


async def test_refuses_when_any_resolved_address_is_private() -> None:
    resolver = resolving_to("93.184.215.14", "10.0.0.5")
    with pytest.raises(UnsafeTarget, match="10.0.0.5, a private address"):
        await check_url("https://mixed.example/x", allow_private=False, resolver=resolver)


async def test_refuses_decimal_and_short_forms_once_resolved() -> None:
    # getaddrinfo reads "2130706433" and "127.1" as 127.0.0.1; the check is on what it returns.
    for host in ("2130706433", "127.1"):
        with pytest.raises(UnsafeTarget, match="loopback"):
            await check_url(f"https://{host}/x", allow_private=False)


async def test_accepts_a_public_https_url_and_says_where_it_goes() -> None:
    target = await check_url(
        "https://social.example:8443/users/a", allow_private=False, resolver=PUBLIC
    )
    assert target == ResolvedTarget(
        url="https://social.example:8443/users/a",
        scheme="https",
        host="social.example",
        port=8443,
        addresses=(ipaddress.IPv4Address("93.184.215.14"),),
    )


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://social.example/x", "plain http not allowed"),
        ("ftp://social.example/x", "scheme ftp not allowed"),
        ("file:///etc/passwd", "scheme file not allowed"),
        ("https://user:pass@social.example/x", "userinfo in URL not allowed"),
        ("https://user@social.example/x", "userinfo in URL not allowed"),
        ("https:///x", "URL has no host"),
        ("https://social.example:99999/x", "malformed URL: Port out of range 0-65535"),
    ],
)
async def test_refuses_urls_of_the_wrong_shape(url: str, reason: str) -> None:
    with pytest.raises(UnsafeTarget) as caught:
        await check_url(url, allow_private=False, resolver=PUBLIC)
    assert caught.value.reason == reason


async def test_allow_private_lets_loopback_and_http_through() -> None:
    target = await check_url("http://127.0.0.1:8080/inbox", allow_private=True)
    assert target.addresses == (ipaddress.IPv4Address("127.0.0.1"),)
    assert target.port == 8080
    named = await check_url(
        "http://stgy.test/x", allow_private=True, resolver=resolving_to("127.0.0.1")
    )
    assert named.addresses == (ipaddress.IPv4Address("127.0.0.1"),)
    with pytest.raises(UnsafeTarget, match="userinfo"):
        await check_url("http://a:b@127.0.0.1/x", allow_private=True)


def test_public_and_embedded_public_addresses_pass() -> None:
    for text in ("8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"):
        assert check_address(ipaddress.ip_address(text)) is None


async def test_guarded_transport_refuses_at_connect_time_without_connecting() -> None:
    hits: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        hits.append(await reader.readline())
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        # The name looked public when checked, and now resolves to loopback (rebinding).
        transport = GuardedTransport(allow_private=False, resolver=resolving_to("127.0.0.1"))
        async with httpx.AsyncClient(transport=transport) as client:
            with pytest.raises(UnsafeTarget, match="rebound.example resolves to 127.0.0.1"):
                await client.get(f"http://rebound.example:{port}/x")
    finally:
        server.close()
        await server.wait_closed()
    assert hits == []


async def test_guarded_transport_dials_the_vetted_address_with_the_original_host() -> None:
    seen: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (line := await reader.readline()) not in (b"\r\n", b""):
            seen.append(line)
        writer.write(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        resolver = resolving_to("127.0.0.1")
        transport = GuardedTransport(allow_private=True, resolver=resolver)
        async with httpx.AsyncClient(transport=transport) as client:
            response = await client.get(f"http://stgy.test:{port}/x")
    finally:
        server.close()
        await server.wait_closed()
    assert response.status_code == 204
    assert resolver.asked == [("stgy.test", port)]
    assert f"host: stgy.test:{port}\r\n".encode() in [line.lower() for line in seen]


# An instance on localhost (AddressScope.LOOPBACK, the default there) reaches its
# neighbours on the same machine and nothing else that is not public.
LOOPBACK = AddressScope.LOOPBACK


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:8001/users/bob",
        "http://a.localhost:8001/inbox",
        "http://127.0.0.1:8001/x",
        "http://[::1]:8001/x",
        "https://localhost:8443/x",
        "https://social.example/x",
    ],
)
async def test_loopback_scope_reaches_loopback_hosts_over_http(url: str) -> None:
    async def resolver(host: str, port: int) -> Sequence[str]:
        return ["127.0.0.1", "::1"] if "localhost" in host else ["93.184.215.14"]

    target = await check_url(url, allow_private=LOOPBACK, resolver=resolver)
    assert target.url == url


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://10.0.0.1/x", "a private address"),
        ("http://10.0.0.1/x", "a private address"),
        ("https://192.168.1.1/x", "a private address"),
        ("https://169.254.169.254/latest/meta-data/", "a link-local address"),
        ("https://[fc00::1]/x", "a private address"),
        ("https://[2002:7f00:1::]/x", "the 6to4 form of a loopback address"),
        ("http://social.example/x", "plain http not allowed (only to loopback hosts)"),
    ],
)
async def test_loopback_scope_still_refuses_private_ranges_and_public_http(
    url: str, reason: str
) -> None:
    with pytest.raises(UnsafeTarget) as caught:
        await check_url(url, allow_private=LOOPBACK, resolver=PUBLIC)
    assert caught.value.reason.endswith(reason)


async def test_loopback_scope_refuses_a_name_mixing_loopback_and_private() -> None:
    with pytest.raises(UnsafeTarget, match="resolves to 10.1.2.3, a private address"):
        await check_url(
            "http://both.example/x",
            allow_private=LOOPBACK,
            resolver=resolving_to("127.0.0.1", "10.1.2.3"),
        )


@pytest.mark.parametrize("url", ["http://localhost:8001/x", "https://127.0.0.1:8001/x"])
async def test_public_scope_refuses_loopback(url: str) -> None:
    for public in (AddressScope.PUBLIC, False):
        with pytest.raises(UnsafeTarget):
            await check_url(url, allow_private=public)


async def test_private_scope_is_allow_private_true() -> None:
    target = await check_url("http://10.0.0.1:8080/x", allow_private=AddressScope.PRIVATE)
    assert target.addresses == (ipaddress.IPv4Address("10.0.0.1"),)


def test_lookups_of_loopback_hosts_speak_http_unless_the_scope_is_public() -> None:
    for scope in (AddressScope.LOOPBACK, AddressScope.PRIVATE, True):
        assert lookup_scheme("localhost:8000", allow_private=scope) == "http"
        assert lookup_scheme("127.0.0.1:8000", allow_private=scope) == "http"
        assert lookup_scheme("social.example", allow_private=scope) == "https"
    assert lookup_scheme("localhost:8000", allow_private=AddressScope.PUBLIC) == "https"


async def test_guarded_transport_in_loopback_scope_connects_to_loopback_only() -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.readline() not in (b"\r\n", b""):
            pass
        writer.write(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        transport = GuardedTransport(allow_private=LOOPBACK)
        async with httpx.AsyncClient(transport=transport) as client:
            response = await client.get(f"http://localhost:{port}/x")
            assert response.status_code == 204
            rebound = GuardedTransport(allow_private=LOOPBACK, resolver=resolving_to("10.0.0.7"))
            async with httpx.AsyncClient(transport=rebound) as other:
                with pytest.raises(UnsafeTarget, match="a private address"):
                    await other.get(f"http://inside.example:{port}/x")
    finally:
        server.close()
        await server.wait_closed()
