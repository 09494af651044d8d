"""Public keys of remote actors for signature checks: cached on the account row, fetched
from the actor document when unknown or when a signature fails with the cached key.

A key id names an actor's key (`https://host/users/a#main-key`); its owner is the remote
account whose `public_key_id` it is, or whose actor id is the key id without its fragment.
A fetched actor must list that very key id as its `publicKey`, on the key id's origin.

What may be fetched, and how often (docs/federation.md, "Fetch discipline"): a key id on
another origin than the activity's actor is refused before anything is fetched; a known
actor is refetched (for a rotated key) at most once per `federation.key_refetch_interval`
however many signatures fail; unknown actors are fetched within their host's token
bucket, and one whose fetch failed is not tried again within that interval
(stgy/fetch_limits.py). A request over those limits is answered 401 with Retry-After.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urldefrag, urlsplit

from federation import fetch
from federation.httpsig import KeyResolver
from federation.vocab import PropertyValue
from stgy.bounded import BoundedMap
from stgy.domain.errors import RetryLater, Unauthorized
from stgy.domain.html_text import html_to_text, link_hashtags
from stgy.domain.remote.activitypub import instance_key
from stgy.domain.text import sanitize_html
from stgy.logs import quote
from stgy.services import Services
from storage import inbox as inbox_sql
from storage import remote_accounts as remote_sql
from storage.remote_accounts import KnownKey, RemoteActorRow

log = logging.getLogger("stgy.inbox")

# Senders' keys as read from their account rows, per process: key id -> (when read,
# key). Trusted for KEY_TTL seconds; a signature that fails with a cached key still
# refetches the actor (rotation), which drops the entry. Blocks are not cached: the
# statement that stores an activity checks them (storage.inbox.take_activity).
# At most KEY_CACHE_SIZE entries and KEY_CACHE_BYTES (their strings, plus an allowance
# for the objects around them), least recently used out first.
KEY_TTL = 300.0
KEY_CACHE_SIZE = 10_000
KEY_CACHE_BYTES = 16 * 1024 * 1024
_KEY_OVERHEAD = 400


def _key_size(key_id: str, cached: tuple[float, KnownKey]) -> int:
    known = cached[1]
    strings = (key_id, known.ap_id, known.public_key_id or "", known.public_key_pem or "")
    return sum(len(text) for text in strings) + _KEY_OVERHEAD


_KEYS: BoundedMap[str, tuple[float, KnownKey]] = BoundedMap(
    KEY_CACHE_SIZE, KEY_CACHE_BYTES, _key_size
)


def _cached_key(key_id: str) -> KnownKey | None:
    cached = _KEYS.get(key_id)
    if cached is None:
        return None
    if time.monotonic() - cached[0] >= KEY_TTL:
        _KEYS.pop(key_id)
        return None
    return cached[1]


def _cache_key(key_id: str, known: KnownKey) -> None:
    if known.public_key_id != key_id or not known.public_key_pem:
        return
    _KEYS.put(key_id, (time.monotonic(), known))


def forget_cached_keys() -> None:
    _KEYS.clear()


@dataclass(frozen=True)
class KeyOwner:
    account_id: int
    ap_id: str


def actor_id_of_key(key_id: str) -> str:
    return urldefrag(key_id).url


def host_of(url: str) -> str | None:
    """The lowercased host of an http(s) URL, with its port when one is given; else None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.hostname.lower() + (f":{port}" if port is not None else "")


def origin_of(url: str) -> tuple[str, str, int] | None:
    """(scheme, lowercased host, port) of an http(s) URL, the port defaulted; else None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme, parts.hostname.lower(), port if port is not None else default


def check_key_origin(key_id: str, actor_id: str) -> None:
    """Unauthorized unless the key id is on the actor's origin (scheme, host and port).
    Asked before any fetch: a key elsewhere could only name some other server to fetch.
    Keys shared on one server (an instance actor's, a relay's) are on its origin."""
    key_origin = origin_of(key_id)
    if key_origin is None or key_origin != origin_of(actor_id):
        raise Unauthorized("the signing key is not on the activity's actor's host")


def domains_of(host: str) -> list[str]:
    """The host and the domains above it: blocking example.com blocks a.example.com too."""
    name, _, port = host.partition(":")
    labels = name.split(".")
    return ([host] if port else []) + [".".join(labels[i:]) for i in range(len(labels))]


async def is_blocked(services: Services, host: str) -> bool:
    async with services.pool.acquire() as conn:
        return await inbox_sql.any_blocked(conn, domains=domains_of(host))


async def _known(services: Services, key_id: str) -> KnownKey | None:
    async with services.pool.acquire() as conn:
        return await remote_sql.find_known_key(
            conn, key_id=key_id, actor_id=actor_id_of_key(key_id)
        )


def actor_row(actor: fetch.RemoteActor, domain: str, tags_url: str) -> RemoteActorRow:
    """What to store of a fetched actor on `domain`: its summary sanitised with its
    hashtags linked to `tags_url`, its avatar and header (hot-linked), its fields."""
    return RemoteActorRow(
        ap_id=actor.id,
        domain=domain,
        handle=actor.preferred_username,
        display_name=actor.name or "",
        bio_html=link_hashtags(sanitize_html(actor.summary or ""), tags_url),
        url=actor.url,
        inbox_url=actor.inbox,
        shared_inbox_url=actor.shared_inbox,
        outbox_url=actor.outbox,
        followers_url=actor.followers,
        following_url=actor.following,
        featured_url=actor.featured,
        public_key_id=actor.public_key_id,
        public_key_pem=actor.public_key_pem,
        locked=actor.manually_approves_followers,
        bot=actor.type in ("Service", "Application"),
        fetched_at=datetime.now(UTC),
        avatar_url=actor.icon_url,
        header_url=actor.image_url,
        fields=profile_fields(actor.fields),
    )


def tags_url(services: Services) -> str:
    """Where hashtags in what other servers send us link to: our own tag pages."""
    return services.config.instance.base_url + "/tags"


def profile_fields(found: tuple[PropertyValue, ...]) -> list[dict[str, str]]:
    """Stored profile fields of a remote actor: the name as text, the value as sanitised
    HTML (`value_html`) and as its text on one line (`value`)."""
    fields = []
    for item in found:
        value_html = sanitize_html(item.value_html)
        value = " ".join(html_to_text(value_html).split())
        name = item.name.replace("\x00", "")
        fields.append({"name": name, "value": value, "value_html": value_html})
    return fields


async def refresh_actor(services: Services, key_id: str) -> str | None:
    """Fetch the actor a key id names and store it; its PEM, or None when that fails."""
    actor_url = actor_id_of_key(key_id)
    host = host_of(actor_url)
    if host is None or await is_blocked(services, host):
        return None
    key = await instance_key(services)
    try:
        actor = await fetch.fetch_actor(
            services.http,
            actor_url,
            signer=fetch.Signer(key.key_id, key.private_pem),
            allow_private=services.config.address_scope,
        )
    except fetch.FetchError as exc:
        log.info("actor_fetch_failed key=%s reason=%r", key_id, exc.reason)
        return None
    # The document must claim this key, and live on the key's origin (redirects may move it).
    if actor.public_key_id != key_id or origin_of(actor.id) != origin_of(actor_url):
        log.info("actor_fetch_key_mismatch key=%s actor=%s", key_id, actor.id)
        return None
    async with services.pool.acquire() as conn:
        row = actor_row(actor, host, tags_url(services))
        stored = await remote_sql.upsert_remote_account(conn, row)
    return actor.public_key_pem if stored is not None else None


def key_resolver(services: Services) -> KeyResolver:
    """`(key_id, refresh) -> PEM | None`: the stored key, else (or on refresh) a fetched
    one, as far as services.fetch_limits allow: a known actor not refetched within the
    interval keeps its stored key; an unknown one over its host's bucket, or whose
    fetch failed within the interval, is RetryLater (401 with Retry-After)."""

    async def resolve(key_id: str, refresh: bool) -> str | None:
        known = await _known(services, key_id)
        if known is not None and known.public_key_pem and not refresh:
            return known.public_key_pem
        url = actor_id_of_key(key_id)
        limits = services.fetch_limits
        if known is not None:
            if not limits.may_refetch(url, time.monotonic()):
                log.debug("actor_refetch_skipped key=%s", quote(key_id))
                return known.public_key_pem
        else:
            host = host_of(url)
            if host is None:
                return None
            wait = limits.unknown_fetch_wait(url, host, time.monotonic())
            if wait:
                log.debug("actor_fetch_deferred key=%s wait=%d", quote(key_id), wait)
                raise RetryLater(
                    f"the signer's actor cannot be fetched now (fetches of {host} are"
                    f" limited); try again in {wait} s",
                    wait,
                )
        fetched = await refresh_actor(services, key_id)
        if fetched is not None:
            return fetched
        if known is None:
            limits.fetch_failed(url, time.monotonic())
        return known.public_key_pem if known is not None else None

    return resolve


async def key_owner(services: Services, key_id: str) -> KeyOwner | None:
    """The remote account a verified key id belongs to."""
    known = await _known(services, key_id)
    return KeyOwner(known.account_id, known.ap_id) if known else None


class SenderKeys:
    """What one signed request needs to know of its sender: the key it claims, when we
    have it (from this process's cache, else from the database in the same query that
    asks whether the sender's instance is blocked). Resolves that key without asking
    again; any other key, or a refresh, goes the usual way."""

    def __init__(
        self,
        services: Services,
        key_id: str | None,
        blocked: bool,
        known: KnownKey | None,
        actor_id: str | None = None,
    ):
        self.services = services
        self.key_id = key_id
        # The activity's actor, when there is one: every key resolved must be on its origin.
        self.actor_id = actor_id
        # True when found blocked; False also when not asked (the key was cached).
        self.blocked = blocked
        self.known = known
        self.fetched = False

    @classmethod
    async def look_up(
        cls, services: Services, host: str, key_id: str | None, *, actor_id: str | None = None
    ) -> SenderKeys:
        """`host`: the instance that must not be blocked; `key_id`: the key claimed;
        `actor_id`: the activity's actor, whose origin the key must be on (Unauthorized
        at once otherwise)."""
        if key_id and actor_id is not None:
            check_key_origin(key_id, actor_id)
        if key_id:
            cached = _cached_key(key_id)
            if cached is not None:
                return cls(services, key_id, False, cached, actor_id)
        async with services.pool.acquire() as conn:
            blocked, known = await remote_sql.check_sender(
                conn,
                domains=domains_of(host),
                key_id=key_id or "",
                actor_id=actor_id_of_key(key_id) if key_id else "",
            )
        if key_id and known is not None and not blocked:
            _cache_key(key_id, known)
        return cls(services, key_id, blocked, known, actor_id)

    async def resolve(self, key_id: str, refresh: bool) -> str | None:
        """A KeyResolver (see federation.httpsig)."""
        if self.actor_id is not None:
            check_key_origin(key_id, self.actor_id)
        known = self.known
        if not refresh and key_id == self.key_id and known is not None and known.public_key_pem:
            return known.public_key_pem
        self.fetched = True
        _KEYS.pop(key_id)
        return await key_resolver(self.services)(key_id, refresh)

    async def owner(self, key_id: str) -> KeyOwner | None:
        """The remote account a verified key id belongs to."""
        known = self.known
        if not self.fetched and key_id == self.key_id and known is not None:
            return KeyOwner(known.account_id, known.ap_id)
        return await key_owner(self.services, key_id)
