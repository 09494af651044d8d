"""Finding remote accounts: WebFinger lookups of `user@host`, guarded and capped like fetches.

`webfinger` asks a host's `/.well-known/webfinger` for `acct:user@host` and gives the
actor URL its `self` link names. It raises `FetchError` (from `federation.fetch`) and
`WebFingerError` (a JRD we cannot use), nothing else.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
from typing import Any
from urllib.parse import quote, urljoin

import httpx

from federation.fetch import MAX_REDIRECTS, FetchError, read_capped
from federation.ssrf import Resolver, UnsafeTarget, check_url
from federation.webfinger import RemoteJrd, WebFingerError, parse_jrd

__all__ = ["JRD_ACCEPT", "lookup_scheme", "webfinger", "webfinger_url"]

JRD_ACCEPT = "application/jrd+json, application/json"
_JRD_TYPES = frozenset({"application/jrd+json", "application/json"})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


def lookup_scheme(host: str, *, allow_private: bool) -> str:
    """https, except for localhost and loopback hosts where private addresses are allowed
    (tests and development), which speak plain http as our own instance does there."""
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0][1:]
    name = name.lower()
    if not allow_private:
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
    allow_private: bool,
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
    allow_private: bool,
    max_bytes: int,
    timeout: float,
    resolver: Resolver | None,
) -> Any:
    current = url
    for _hop in range(MAX_REDIRECTS + 1):
        try:
            await check_url(current, allow_private=allow_private, resolver=resolver)
            request = client.build_request(
                "GET", current, headers={"Accept": JRD_ACCEPT}, timeout=timeout
            )
            response = await client.send(request, stream=True, follow_redirects=False)
            try:
                if response.status_code in _REDIRECTS and "location" in response.headers:
                    current = urljoin(current, response.headers["location"])
                    continue
                body = await _jrd_body(response, max_bytes)
            finally:
                await response.aclose()
        except UnsafeTarget as error:
            raise FetchError(f"unsafe target: {error.reason}") from error
        except httpx.TimeoutException as error:
            raise FetchError("timed out") from error
        except httpx.InvalidURL as error:
            raise FetchError(f"invalid URL: {error}") from error
        except httpx.HTTPError as error:
            raise FetchError(f"connection failed: {type(error).__name__}") from error
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError) as error:
            raise WebFingerError("the answer is not JSON") from error
    raise FetchError("too many redirects")


async def _jrd_body(response: httpx.Response, max_bytes: int) -> bytes:
    status = response.status_code
    if status in (404, 410):
        raise FetchError("gone", status)
    if not 200 <= status < 300:
        raise FetchError("unexpected status", status)
    media_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type not in _JRD_TYPES:
        raise FetchError(f"wrong content type {media_type or '(none)'}", status)
    body = await read_capped(response, max_bytes)
    if body is None:
        raise FetchError("too large", status)
    return body
