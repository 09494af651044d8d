"""Finding remote accounts: WebFinger lookups of `user@host`, guarded and capped like fetches.

`webfinger` asks a host's `/.well-known/webfinger` for `acct:user@host` and gives the
actor URL its `self` link names. It raises `FetchError` (from `federation.fetch`) and
`WebFingerError` (a JRD we cannot use), nothing else.
"""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Any
from urllib.parse import quote

import httpx

from federation import limits
from federation.fetch import FetchError, get_guarded
from federation.ssrf import AddressScope, AllowPrivate, Resolver, scope_of
from federation.webfinger import RemoteJrd, WebFingerError, parse_jrd

__all__ = ["JRD_ACCEPT", "lookup_scheme", "webfinger", "webfinger_url"]

JRD_ACCEPT = "application/jrd+json, application/json"
_JRD_TYPES = frozenset({"application/jrd+json", "application/json"})


def lookup_scheme(host: str, *, allow_private: AllowPrivate) -> str:
    """https, except for localhost and loopback hosts where loopback may be reached
    (development, tests), which speak plain http as our own instance does there."""
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0][1:]
    name = name.lower()
    if scope_of(allow_private) is AddressScope.PUBLIC:
        return "https"
    if name == "localhost" or name.endswith(".localhost"):
        return "http"
    try:
        return "http" if ipaddress.ip_address(name).is_loopback else "https"
    except ValueError:
        return "https"


def webfinger_url(user: str, host: str, *, scheme: str = "https") -> str:
    resource = quote(f"acct:{user}@{host}", safe=":@")
    return f"{scheme}://{host}/.well-known/webfinger?resource={resource}"


async def webfinger(
    client: httpx.AsyncClient,
    user: str,
    host: str,
    *,
    allow_private: AllowPrivate,
    max_bytes: int = 100_000,
    timeout: float = 10.0,
    resolver: Resolver | None = None,
) -> RemoteJrd:
    """Look `acct:user@host` up; the JRD's actor (self link), subject and aliases.

    Every hop (at most MAX_REDIRECTS redirects) passes the SSRF guard first; `timeout`
    bounds the whole lookup. The answer must be 2xx JSON of at most `max_bytes`.
    """
    url = webfinger_url(user, host, scheme=lookup_scheme(host, allow_private=allow_private))
    try:
        async with asyncio.timeout(timeout):
            document = await _get_jrd(client, url, allow_private, max_bytes, timeout, resolver)
    except TimeoutError as error:
        raise FetchError("timed out") from error
    return parse_jrd(document)


async def _get_jrd(
    client: httpx.AsyncClient,
    url: str,
    allow_private: AllowPrivate,
    max_bytes: int,
    timeout: float,
    resolver: Resolver | None,
) -> Any:
    body, _ = await get_guarded(
        client,
        url,
        accept=JRD_ACCEPT,
        signer=None,
        allow_private=allow_private,
        max_bytes=max_bytes,
        timeout=timeout,
        content_types=_JRD_TYPES,
        resolver=resolver,
    )
    try:
        return limits.parse_json(body)
    except limits.LimitExceeded as error:
        raise WebFingerError(f"the answer is over a limit: {error}") from error
    except ValueError as error:
        raise WebFingerError("the answer is not JSON") from error
