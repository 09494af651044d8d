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
    content_types: frozenset[str] | None = None,
) -> bytes:
    """GET a file from another server (at most MAX_REDIRECTS redirects, each hop vetted);
    FetchError for anything wrong, "too large" past `max_bytes`, "wrong content type ..."
    when `content_types` is given and the declared type (or "" for none) is not in it."""
    try:
        async with asyncio.timeout(timeout):
            return await _fetch(
                client, url, allow_private, max_bytes, timeout, resolver, content_types
            )
    except TimeoutError as error:
        raise FetchError("timed out") from error


async def _fetch(
    client: httpx.AsyncClient,
    url: str,
    allow_private: AllowPrivate,
    max_bytes: int,
    timeout: float,
    resolver: Resolver | None,
    content_types: frozenset[str] | None,
) -> bytes:
    body, _ = await get_guarded(
        client,
        url,
        accept=ACCEPT_IMAGES,
        signer=None,
        allow_private=allow_private,
        max_bytes=max_bytes,
        timeout=timeout,
        # Claimed types are not trusted either way: callers sniff the bytes.
        content_types=content_types,
        resolver=resolver,
    )
    return body
