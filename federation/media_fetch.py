"""Fetching a remote attachment's bytes: SSRF-guarded at every hop, size-capped, timed.

The content type the server claims is not trusted; callers sniff the bytes.
"""

from __future__ import annotations

import asyncio

import httpx

from federation.fetch import FetchError, get_guarded
from federation.ssrf import AllowPrivate, Resolver

ACCEPT_IMAGES = "image/avif, image/webp, image/png, image/jpeg, image/gif;q=0.9, */*;q=0.1"


async def fetch_media(
    client: httpx.AsyncClient,
    url: str,
    *,
    allow_private: AllowPrivate,
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
    allow_private: AllowPrivate,
    max_bytes: int,
    timeout: float,
    resolver: Resolver | None,
) -> bytes:
    body, _ = await get_guarded(
        client,
        url,
        accept=ACCEPT_IMAGES,
        signer=None,
        allow_private=allow_private,
        max_bytes=max_bytes,
        timeout=timeout,
        content_types=None,  # claimed types are not trusted: callers sniff the bytes
        resolver=resolver,
    )
    return body
