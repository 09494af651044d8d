"""Fetching a remote attachment's bytes: SSRF-guarded at every hop, size-capped, timed.

The content type the server claims is not trusted; callers sniff the bytes.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urljoin

import httpx

from federation.fetch import MAX_REDIRECTS, FetchError, read_capped
from federation.ssrf import Resolver, UnsafeTarget, check_url

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
ACCEPT_IMAGES = "image/avif, image/webp, image/png, image/jpeg, image/gif;q=0.9, */*;q=0.1"


async def fetch_media(
    client: httpx.AsyncClient,
    url: str,
    *,
    allow_private: bool,
    max_bytes: int,
    timeout: float = 20.0,
    resolver: Resolver | None = None,
) -> bytes:
    """GET a file from another server (at most MAX_REDIRECTS redirects, each hop vetted);
    FetchError for anything wrong, "too large" past `max_bytes`."""
    try:
        async with asyncio.timeout(timeout):
            return await _fetch(client, url, allow_private, max_bytes, timeout, resolver)
    except TimeoutError as error:
        raise FetchError("timed out") from error


async def _fetch(
    client: httpx.AsyncClient,
    url: str,
    allow_private: bool,
    max_bytes: int,
    timeout: float,
    resolver: Resolver | None,
) -> bytes:
    current = url
    for _hop in range(MAX_REDIRECTS + 1):
        try:
            await check_url(current, allow_private=allow_private, resolver=resolver)
            request = client.build_request(
                "GET", current, headers={"Accept": ACCEPT_IMAGES}, timeout=timeout
            )
            response = await client.send(request, stream=True, follow_redirects=False)
            try:
                status = response.status_code
                if status in _REDIRECTS and "location" in response.headers:
                    current = urljoin(current, response.headers["location"])
                    continue
                if status in (404, 410):
                    raise FetchError("gone", status)
                if not 200 <= status < 300:
                    raise FetchError("unexpected status", status)
                body = await read_capped(response, max_bytes)
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
        if body is None:
            raise FetchError("too large", status)
        return body
    raise FetchError("too many redirects")
