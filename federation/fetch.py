"""Fetching remote ActivityPub documents: guarded, optionally signed, capped, and checked.

`fetch_json` gets one JSON object from another server; `fetch_actor` gets an
actor and parses it into a `RemoteActor`. Both raise `FetchError` and nothing
else for anything the remote side or the network does wrong.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from federation import limits, signatures
from federation.ssrf import AllowPrivate, Resolver, UnsafeTarget, check_url
from federation.vocab import PropertyValue

__all__ = [
    "ACCEPT",
    "ACTOR_TYPES",
    "JSON_CONTENT_TYPES",
    "MAX_REDIRECTS",
    "FetchError",
    "RemoteActor",
    "Signer",
    "fetch_actor",
    "fetch_json",
    "read_capped",
]

ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
JSON_CONTENT_TYPES = frozenset(
    {"application/activity+json", "application/ld+json", "application/json"}
)
ACTOR_TYPES = frozenset({"Person", "Service", "Application", "Group", "Organization"})
MAX_REDIRECTS = 3
# Profile fields read from an actor (Mastodon allows 4 by default, some servers more);
# longer names and values are cut (values are HTML, sanitised by whoever stores them).
MAX_ACTOR_FIELDS = 16
MAX_FIELD_NAME = 255
MAX_FIELD_VALUE = 2048
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_SIGNED_ON_GET = ("(request-target)", "host", "date")


class FetchError(Exception):
    """A fetch that failed; `reason` in a few stable words, `status` when the server answered.

    `gone` is True for 404 and 410: the document is not there, so stop asking.
    """

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(f"{reason} (HTTP {status})" if status is not None else reason)
        self.reason = reason
        self.status = status

    @property
    def gone(self) -> bool:
        return self.status in (404, 410)


@dataclass(frozen=True, slots=True)
class Signer:
    """The key a GET is signed with (draft-cavage, "(request-target) host date")."""

    key_id: str
    private_key_pem: str

    def __repr__(self) -> str:
        return f"Signer(key_id={self.key_id!r})"


@dataclass(frozen=True, slots=True)
class RemoteActor:
    """An actor of another server, as far as we read it; optional fields are None when absent."""

    id: str
    type: str
    preferred_username: str
    inbox: str
    public_key_id: str
    public_key_pem: str
    name: str | None = None
    summary: str | None = None
    shared_inbox: str | None = None
    outbox: str | None = None
    followers: str | None = None
    following: str | None = None
    featured: str | None = None
    url: str | None = None
    icon_url: str | None = None
    image_url: str | None = None
    manually_approves_followers: bool = False
    discoverable: bool | None = None
    published: datetime | None = None
    fields: tuple[PropertyValue, ...] = ()


async def fetch_json(
    client: httpx.AsyncClient,
    url: str,
    *,
    signer: Signer | None,
    allow_private: AllowPrivate,
    max_bytes: int = 1_000_000,
    timeout: float = 10.0,
    accept: str = ACCEPT,
    resolver: Resolver | None = None,
) -> dict[str, Any]:
    """GET a JSON object from another server, following at most MAX_REDIRECTS redirects.

    Every hop is vetted by the SSRF guard before it is requested. `timeout`
    bounds the whole fetch, redirects included. The answer must be 2xx, of a
    JSON content type, at most `max_bytes`, a JSON object, and its `id` must
    have the host (and port) of the URL finally fetched.
    """
    try:
        async with asyncio.timeout(timeout):
            return await _fetch(
                client, url, signer, allow_private, max_bytes, timeout, accept, resolver
            )
    except TimeoutError as error:
        raise FetchError("timed out") from error


async def _fetch(
    client: httpx.AsyncClient,
    url: str,
    signer: Signer | None,
    allow_private: AllowPrivate,
    max_bytes: int,
    timeout: float,
    accept: str,
    resolver: Resolver | None,
) -> dict[str, Any]:
    body, final_url = await get_guarded(
        client,
        url,
        accept=accept,
        signer=signer,
        allow_private=allow_private,
        max_bytes=max_bytes,
        timeout=timeout,
        content_types=JSON_CONTENT_TYPES,
        resolver=resolver,
    )
    return _checked_document(body, final_url)


async def get_guarded(
    client: httpx.AsyncClient,
    url: str,
    *,
    accept: str,
    signer: Signer | None,
    allow_private: AllowPrivate,
    max_bytes: int,
    timeout: float,
    content_types: frozenset[str] | None,
    resolver: Resolver | None = None,
) -> tuple[bytes, str]:
    """GET `url`: every hop (at most MAX_REDIRECTS redirects) vetted by the SSRF guard and,
    with a signer, signed again for its own URL; a 2xx answer of one of `content_types`
    (any, when None) of at most `max_bytes`. The body and the URL it finally came from;
    FetchError for anything else. `timeout` bounds each request (callers bound the whole)."""
    current = url
    for _hop in range(MAX_REDIRECTS + 1):
        try:
            await check_url(current, allow_private=allow_private, resolver=resolver)
            headers = {"Accept": accept}
            if signer is not None:
                headers |= signatures.sign_request(
                    "GET",
                    current,
                    headers,
                    None,
                    signer.key_id,
                    signer.private_key_pem,
                    signed_headers=_SIGNED_ON_GET,
                )
            request = client.build_request("GET", current, headers=headers, timeout=timeout)
            response = await client.send(request, stream=True, follow_redirects=False)
            try:
                if response.status_code in _REDIRECTS and "location" in response.headers:
                    current = _without_fragment(urljoin(current, response.headers["location"]))
                    continue
                body = await _successful_body(response, max_bytes, content_types)
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
        return body, current
    raise FetchError("too many redirects")


async def _successful_body(
    response: httpx.Response, max_bytes: int, content_types: frozenset[str] | None
) -> bytes:
    status = response.status_code
    if status in (404, 410):
        raise FetchError("gone", status)
    if not 200 <= status < 300:
        raise FetchError("unexpected status", status)
    media_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_types is not None and media_type not in content_types:
        raise FetchError(f"wrong content type {media_type or '(none)'}", status)
    body = await read_capped(response, max_bytes)
    if body is None:
        raise FetchError("too large", status)
    return body


async def read_capped(response: httpx.Response, max_bytes: int) -> bytes | None:
    """The (decoded) body of a streamed response, or None as soon as it passes `max_bytes`."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _checked_document(body: bytes, final_url: str) -> dict[str, Any]:
    try:
        document = limits.parse_json(body)
        limits.check_document(document)
    except limits.LimitExceeded as error:
        raise FetchError(f"over a limit: {error}") from error
    except ValueError as error:
        raise FetchError("not JSON") from error
    if not isinstance(document, dict):
        raise FetchError("not a JSON object")
    identifier = document.get("id")
    if not isinstance(identifier, str) or not _is_http_url(identifier):
        raise FetchError("id missing or not an http(s) URL")
    if _origin_host(identifier) != _origin_host(final_url):
        raise FetchError("id host mismatch")
    return document


def _origin_host(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    default = 443 if parts.scheme.lower() == "https" else 80
    try:
        port = parts.port or default
    except ValueError:
        port = -1
    return (parts.hostname or "", port)


def _without_fragment(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))


def _is_http_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


# ---- actors -----------------------------------------------------------------


async def fetch_actor(
    client: httpx.AsyncClient,
    url: str,
    *,
    signer: Signer | None,
    allow_private: AllowPrivate,
    max_bytes: int = 1_000_000,
    timeout: float = 10.0,
    resolver: Resolver | None = None,
) -> RemoteActor:
    """Fetch an actor (see fetch_json) and parse it; FetchError naming the field that is wrong."""
    document = await fetch_json(
        client,
        url,
        signer=signer,
        allow_private=allow_private,
        max_bytes=max_bytes,
        timeout=timeout,
        resolver=resolver,
    )
    return parse_actor(document)


def parse_actor(document: dict[str, Any]) -> RemoteActor:
    """Read an actor document's minimal shape; FetchError("invalid <field>: ...") if it lacks it."""
    actor_id = _url(document, "id")
    actor_type = document.get("type")
    if not isinstance(actor_type, str) or actor_type not in ACTOR_TYPES:
        raise FetchError(f"invalid type: {actor_type!r} is not an actor type")
    key = _public_key(document.get("publicKey"), actor_id)
    endpoints = document.get("endpoints")
    if endpoints is not None and not isinstance(endpoints, dict):
        raise FetchError("invalid endpoints: not an object")
    return RemoteActor(
        id=actor_id,
        type=actor_type,
        preferred_username=_text(document, "preferredUsername"),
        inbox=_url(document, "inbox"),
        public_key_id=_url(key, "publicKey.id", key="id"),
        public_key_pem=_text(key, "publicKey.publicKeyPem", key="publicKeyPem"),
        name=_optional_text(document, "name"),
        summary=_optional_text(document, "summary"),
        shared_inbox=_optional_url(endpoints or {}, "endpoints.sharedInbox", key="sharedInbox"),
        outbox=_optional_url(document, "outbox"),
        followers=_optional_url(document, "followers"),
        following=_optional_url(document, "following"),
        featured=_optional_url(document, "featured"),
        url=_link(document.get("url"), "url"),
        icon_url=_image_url(document.get("icon"), "icon"),
        image_url=_image_url(document.get("image"), "image"),
        manually_approves_followers=_flag(document, "manuallyApprovesFollowers") or False,
        discoverable=_flag(document, "discoverable"),
        published=_timestamp(document.get("published")),
        fields=_property_values(document.get("attachment")),
    )


def _public_key(value: object, actor_id: str) -> dict[str, Any]:
    # Some servers publish several keys as a list: take the one the actor owns.
    candidates = value if isinstance(value, list) else [value]
    if value is None or not candidates:
        raise FetchError("invalid publicKey: missing")
    for candidate in candidates:
        if not isinstance(candidate, dict):
            raise FetchError("invalid publicKey: not an object")
        if candidate.get("owner") == actor_id:
            return candidate
    raise FetchError("invalid publicKey.owner: not the actor")


def _text(document: dict[str, Any], field: str, *, key: str | None = None) -> str:
    value = document.get(key or field)
    if not isinstance(value, str) or not value:
        raise FetchError(f"invalid {field}: {'missing' if value is None else 'not a string'}")
    return value


def _optional_text(document: dict[str, Any], field: str) -> str | None:
    value = document.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise FetchError(f"invalid {field}: not a string")
    return value


def _url(document: dict[str, Any], field: str, *, key: str | None = None) -> str:
    value = document.get(key or field)
    if not _is_http_url(value):
        raise FetchError(f"invalid {field}: {'missing' if value is None else 'not an http(s) URL'}")
    assert isinstance(value, str)  # noqa: S101 - narrowed by _is_http_url
    return value


def _optional_url(document: dict[str, Any], field: str, *, key: str | None = None) -> str | None:
    if document.get(key or field) is None:
        return None
    return _url(document, field, key=key)


def _link(value: object, field: str) -> str | None:
    """A URL given as a string, a Link object (href), or a list of those: the first one."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("href")
    if value is None:
        return None
    if not _is_http_url(value):
        raise FetchError(f"invalid {field}: not an http(s) URL")
    assert isinstance(value, str)  # noqa: S101 - narrowed by _is_http_url
    return value


def _image_url(value: object, field: str) -> str | None:
    """An Image's URL: an Image object (its url), a bare URL, or a list of those: the first one."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        return _link(value.get("url"), f"{field}.url")
    return _link(value, field)


def _property_values(value: object) -> tuple[PropertyValue, ...]:
    """The `PropertyValue` entries of an actor's `attachment` (Mastodon's profile fields),
    in order, at most MAX_ACTOR_FIELDS; other entries, and entries without a string name
    and value, are left out rather than refusing the actor."""
    found: list[PropertyValue] = []
    for item in value if isinstance(value, list) else [value]:
        if not isinstance(item, dict) or item.get("type") != "PropertyValue":
            continue
        name, text = item.get("name"), item.get("value")
        if not isinstance(name, str) or not isinstance(text, str) or not name.strip():
            continue
        found.append(PropertyValue(name.strip()[:MAX_FIELD_NAME], text[:MAX_FIELD_VALUE]))
        if len(found) == MAX_ACTOR_FIELDS:
            break
    return tuple(found)


def _flag(document: dict[str, Any], field: str) -> bool | None:
    value = document.get(field)
    if value is None or isinstance(value, bool):
        return value
    raise FetchError(f"invalid {field}: not a boolean")


def _timestamp(value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise FetchError("invalid published: not a string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise FetchError("invalid published: not an ISO 8601 time") from error
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
