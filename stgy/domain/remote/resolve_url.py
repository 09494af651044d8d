"""Resolving a URL someone pasted or was sent with (search, remote interaction) to an
account or a post here: ours, one we know, or one fetched now from its server.

A fetched document is trusted as it came (its id on the host that served it, as
`federation.fetch` checks); a Note is stored as the fetched posts of a thread are
(`save_fetched_note`: public and unlisted only), its author fetched first when unknown.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from federation.values import id_of
from stgy.domain import accounts, ratelimit
from stgy.domain.errors import Invalid, NotFound
from stgy.domain.remote import resolve
from stgy.domain.remote.remote_documents import Fetcher, FetchFailed, note_of
from stgy.domain.remote.remote_keys import host_of, is_blocked
from stgy.domain.remote.remote_posts import author_of, save_fetched_note
from stgy.services import Services
from storage import fetched as fetched_sql
from storage import remote_accounts as remote_sql
from storage.accounts import Account

log = logging.getLogger("stgy.fetch")

MAX_URL = 2048
# The document, the Note it stands for (a Create's object, by id), and its author.
FETCH_BUDGET = 4
ACTOR_TYPES = frozenset({"Person", "Service", "Application", "Group", "Organization"})
# Our own pages: a profile `/@handle`, a post `/@handle/<id>`.
_OUR_PROFILE = re.compile(r"^/@([A-Za-z0-9_]{1,30})/?$")
_OUR_POST = re.compile(r"^/@[A-Za-z0-9_]{1,30}/([0-9]{1,19})/?$")


@dataclass(frozen=True)
class Resolved:
    """What a URL names here: an account, or a post (by id); exactly one is set."""

    account: Account | None = None
    post_id: int | None = None


def check_url(url: str | None, field: str = "uri") -> str:
    """An http(s) URL of reasonable length, else Invalid(field)."""
    text = (url or "").strip()
    if not text:
        raise Invalid(field, "required: the address of an account or a post")
    if len(text) > MAX_URL or any(ord(c) < 0x21 for c in text) or host_of(text) is None:
        raise Invalid(field, "not an http(s) URL")
    return text


async def resolve_url(services: Services, url: str, *, client: str | None, fetch: bool) -> Resolved:
    """The account or post `url` names. Without `fetch`, only what this server has;
    with it, an unknown URL of another server is fetched (a write of `client` for the
    rate limit). NotFound when it names nothing we can show."""
    url = check_url(url)
    known = await _known(services, url)
    if known is not None:
        return known
    host = host_of(url)
    if host == services.config.instance.domain.lower():
        return await _ours(services, url)
    if not fetch or not services.config.federation.enabled:
        raise NotFound("nothing known here has this address")
    if host is None or await is_blocked(services, host):
        raise NotFound(f"nothing to show: {host} is blocked here")
    if client is not None:
        await ratelimit.count_write(services, client)
    return await _fetched(services, url)


async def _known(services: Services, url: str) -> Resolved | None:
    async with services.pool.acquire() as conn:
        account = await remote_sql.find_by_ap_id(conn, ap_id=url)
        post_id = None if account else await fetched_sql.post_id_by_ap_id(conn, ap_id=url)
    if account is not None:
        if not account.active:
            raise NotFound("no such account")
        return Resolved(account=account)
    return Resolved(post_id=post_id) if post_id is not None else None


async def _ours(services: Services, url: str) -> Resolved:
    """A page of ours that is not an ActivityPub id: a profile or a post page."""
    path = urlsplit(url).path
    if (found := _OUR_POST.match(path)) and 0 < (post_id := int(found.group(1))) < 2**63:
        return Resolved(post_id=post_id)
    if found := _OUR_PROFILE.match(path):
        return Resolved(account=await accounts.find_account(services, found.group(1)))
    raise NotFound("no account or post of this server has this address")


async def _fetched(services: Services, url: str) -> Resolved:
    fetcher = Fetcher(services, FETCH_BUDGET)
    try:
        document = await fetcher.get(url)
    except FetchFailed as exc:
        raise NotFound(f"{url} could not be fetched ({exc})") from None
    if document is None:
        raise NotFound(f"{url} could not be fetched")
    if document.get("type") in ACTOR_TYPES:
        actor_id = id_of(document) or url
        return Resolved(account=await resolve.fetch_actor_account(services, actor_id, client=None))
    try:
        note = await note_of(fetcher, document, host_of(str(document["id"])) or "")
    except FetchFailed:
        note = None
    if note is None:
        raise NotFound(f"{url} is neither an account nor a post")
    post_id = await _save(fetcher, note)
    if post_id is None:
        raise NotFound(f"{url} is not a public post")
    return Resolved(post_id=post_id)


async def _save(fetcher: Fetcher, note: dict[str, Any]) -> int | None:
    """The Note stored (or found stored), its author fetched first when unknown."""
    services = fetcher.services
    note_id = id_of(note)
    author_id = author_of(note)
    if note_id is None or author_id is None:
        return None
    async with services.pool.acquire() as conn:
        stored = await fetched_sql.post_id_by_ap_id(conn, ap_id=note_id)
        author = None if stored else await remote_sql.find_by_ap_id(conn, ap_id=author_id)
    if stored is not None:
        return stored
    if author is None:
        try:
            author = await resolve.fetch_actor_account(services, author_id, client=None)
        except NotFound:
            log.info("resolve_url_author_failed note=%r author=%r", note_id, author_id)
            return None
    return await save_fetched_note(services, note, author)
