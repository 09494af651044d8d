"""The SSRF guard: which URLs we may request, and a transport that connects only there.

`check_url` vets a URL before any request: scheme, userinfo, and every address
its host resolves to. `GuardedTransport` repeats the address check inside the
connection itself and connects to the address it vetted, so a name that
resolves to a public address for the check and to a private one a moment later
(DNS rebinding) cannot slip through.

How far a caller may reach is an `AddressScope` (or, as before it existed, a bool:
True for PRIVATE, False for PUBLIC): public addresses only; those and loopback (an
instance on localhost federating with its neighbours on the same machine); or
every address (tests, private networks).
"""

from __future__ import annotations

import asyncio
import enum
import ipaddress
import socket
import typing
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpcore
import httpx

__all__ = [
    "AddressScope",
    "AllowPrivate",
    "GuardedBackend",
    "GuardedTransport",
    "IPAddress",
    "ResolvedTarget",
    "Resolver",
    "UnsafeTarget",
    "DEFAULT_LIMITS",
    "check_address",
    "check_url",
    "resolve_host",
    "scope_of",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""Resolves (host, port) to the IP addresses, as text, that a connection may use."""

DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))


class AddressScope(enum.Enum):
    """Which addresses a request may reach."""

    PUBLIC = "public"  # globally routable ones, over https
    LOOPBACK = "loopback"  # those, and loopback hosts over http or https
    PRIVATE = "private"  # any, over http or https


AllowPrivate = bool | AddressScope
"""An AddressScope, or a bool: True is PRIVATE, False is PUBLIC."""


def scope_of(allow_private: AllowPrivate) -> AddressScope:
    if isinstance(allow_private, AddressScope):
        return allow_private
    return AddressScope.PRIVATE if allow_private else AddressScope.PUBLIC


def _is_loopback(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


class UnsafeTarget(Exception):
    """A URL we refuse to connect to; `reason` says why in words fit for a log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ResolvedTarget:
    """A vetted URL: its parts, and the addresses its host resolved to when checked."""

    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[IPAddress, ...]


async def check_url(
    url: str, *, allow_private: AllowPrivate, resolver: Resolver | None = None
) -> ResolvedTarget:
    """Vet a URL we are about to request; UnsafeTarget naming the reason if we must not.

    Only https; http as well to any host under PRIVATE, and to a host whose every
    address is loopback under LOOPBACK (an instance on localhost speaks plain http).
    No userinfo; any port. The host is resolved and refused when any of its addresses
    is outside the scope (not globally routable, see check_address, under PUBLIC).
    """
    scope = scope_of(allow_private)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UnsafeTarget(f"malformed URL: {error}") from error
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeTarget(f"scheme {scheme or '(none)'} not allowed")
    if scheme == "http" and scope is AddressScope.PUBLIC:
        raise UnsafeTarget("plain http not allowed")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UnsafeTarget("userinfo in URL not allowed")
    host = parts.hostname
    if not host:
        raise UnsafeTarget("URL has no host")
    if port is None:
        port = 443 if scheme == "https" else 80
    addresses = await resolve_host(host, port, allow_private=scope, resolver=resolver)
    if scheme == "http" and scope is AddressScope.LOOPBACK:
        if not all(_is_loopback(address) for address in addresses):
            raise UnsafeTarget("plain http not allowed (only to loopback hosts)")
    return ResolvedTarget(url, scheme, host, port, addresses)


async def resolve_host(
    host: str, port: int, *, allow_private: AllowPrivate, resolver: Resolver | None = None
) -> tuple[IPAddress, ...]:
    """The addresses `host` resolves to, every one of them vetted; UnsafeTarget otherwise."""
    scope = scope_of(allow_private)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        found: Sequence[str] = [str(literal)]
    else:
        try:
            found = await (resolver or _system_resolver)(host, port)
        except OSError as error:
            raise UnsafeTarget(f"{host} does not resolve: {error}") from error
    addresses: list[IPAddress] = []
    for text in found:
        try:
            address = ipaddress.ip_address(text.split("%", 1)[0])
        except ValueError as error:
            raise UnsafeTarget(f"{host} resolves to {text!r}, not an address") from error
        allowed = scope is AddressScope.PRIVATE or (
            scope is AddressScope.LOOPBACK and _is_loopback(address)
        )
        if not allowed:
            problem = check_address(address)
            if problem is not None:
                raise UnsafeTarget(f"{host} resolves to {address}, {problem}")
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UnsafeTarget(f"{host} resolves to no address")
    return tuple(addresses)


def check_address(address: IPAddress) -> str | None:
    """Why we must not connect to `address` ("a loopback address", ...), or None if it is fine.

    Addresses embedded in IPv6 forms (IPv4-mapped, 6to4, Teredo, NAT64) are
    checked as the IPv4 addresses they reach.
    """
    if not isinstance(address, ipaddress.IPv6Address):
        return _plain_problem(address)
    embedded: list[tuple[str, ipaddress.IPv4Address]] = []
    if address.ipv4_mapped is not None:
        embedded.append(("IPv4-mapped", address.ipv4_mapped))
    if address.sixtofour is not None:
        embedded.append(("6to4", address.sixtofour))
    if address.teredo is not None:
        embedded.append(("Teredo", address.teredo[1]))
    if any(address in network for network in _NAT64):
        embedded.append(("NAT64", ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)))
    if not embedded:
        return _plain_problem(address)
    # A translation form reaches the IPv4 address it embeds: judge that one.
    for form, inner in embedded:
        problem = _plain_problem(inner)
        if problem is not None:
            return f"the {form} form of {problem}"
    return None


def _plain_problem(address: IPAddress) -> str | None:
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private:
        return "a private address"
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return "a site-local address"
    if not address.is_global:
        return "not a globally routable address"
    return None


async def _system_resolver(host: str, port: int) -> list[str]:
    # RFC 6761 6.3: localhost names are loopback whatever DNS says (many resolvers
    # agree, glibc does not); the guard still refuses them under AddressScope.PUBLIC.
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return ["127.0.0.1", "::1"]
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that vets the host at connect time and dials the vetted address.

    TLS still verifies the certificate for the host name, since httpcore passes
    the URL's host as the server name after connecting.
    """

    def __init__(
        self,
        *,
        allow_private: AllowPrivate,
        resolver: Resolver | None = None,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._allow_private = scope_of(allow_private)
        self._resolver = resolver
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await resolve_host(
            host, port, allow_private=self._allow_private, resolver=self._resolver
        )
        options = list(socket_options) if socket_options is not None else None
        last: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout, local_address, options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                last = error
        assert last is not None  # noqa: S101 - resolve_host never returns an empty tuple
        raise last

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise UnsafeTarget("unix sockets not allowed")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """An httpx transport whose every connection goes through GuardedBackend; no proxies.

    Use it for the client that talks to other servers:
    `httpx.AsyncClient(transport=GuardedTransport(allow_private=False))`.
    A refused connection raises UnsafeTarget out of the request.
    """

    def __init__(
        self,
        *,
        allow_private: AllowPrivate,
        resolver: Resolver | None = None,
        verify: bool | str = True,
        limits: httpx.Limits = DEFAULT_LIMITS,
        http2: bool = False,
        retries: int = 0,
    ) -> None:
        # One TLS context for the pool that replaces the parent's and for the parent's
        # own: each holds the CA store, about 1 MB.
        context = httpx.create_ssl_context(verify=verify, trust_env=False)
        super().__init__(verify=context, trust_env=False, limits=limits, http2=http2)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=http2,
            retries=retries,
            network_backend=GuardedBackend(allow_private=allow_private, resolver=resolver),
        )
