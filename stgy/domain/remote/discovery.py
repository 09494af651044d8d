"""Discovery: WebFinger for local accounts and the instance actor, host-meta, NodeInfo."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any
from urllib.parse import urlsplit

import orjson
from redis.exceptions import RedisError

from federation import nodeinfo as ni
from federation import webfinger as wf
from stgy import __version__
from stgy.domain import instance_settings
from stgy.domain.errors import Invalid, NotFound
from stgy.domain.remote.activitypub import live_actor
from stgy.services import Services
from storage import activitypub as ap_sql

# The page of ours that a subscribe link template points at.
AUTHORIZE_INTERACTION = "/authorize_interaction"


def _instance_jrd(services: Services) -> dict[str, Any]:
    instance = services.config.instance
    actor_url = f"{instance.base_url}/actor"
    return wf.build_jrd(wf.acct_uri(instance.domain, instance.domain), actor_url)


def _resource_handle(services: Services, resource: wf.Resource) -> str | None:
    """The handle a resource names, or None for the instance actor."""
    instance = services.config.instance
    if resource.user is not None:
        if resource.user.lower() in (instance.domain.lower(), instance.host.lower()):
            return None
        return resource.user
    path = urlsplit(resource.url or "").path
    if path == "/actor":
        return None
    for prefix in ("/users/", "/@"):
        if path.startswith(prefix) and "/" not in path[len(prefix) :]:
            return path[len(prefix) :]
    raise NotFound("no account has this URL")


async def webfinger(services: Services, resource: str | None, rels: list[str]) -> dict[str, Any]:
    """The JRD of a local account or of the instance actor; old handles resolve too."""
    if not resource:
        raise Invalid("resource", "required: acct:user@domain or an actor URL")
    try:
        parsed = wf.parse_resource(resource)
    except wf.WebFingerError as exc:
        raise Invalid("resource", str(exc)) from None
    instance = services.config.instance
    if parsed.host not in (instance.domain.lower(), instance.host.lower()):
        raise NotFound("not an account of this instance")
    handle = _resource_handle(services, parsed)
    if handle is None:
        return wf.select_links(_instance_jrd(services), rels)
    account = (await live_actor(services, handle)).account
    subject = wf.acct_uri(account.handle, instance.domain)
    # Where people of other servers are sent to follow or answer (remote interaction).
    template = f"{instance.base_url}{AUTHORIZE_INTERACTION}?uri={{uri}}"
    jrd = wf.build_jrd(subject, account.ap_id, account.url, subscribe_template=template)
    return wf.select_links(jrd, rels)


def host_meta(services: Services) -> str:
    return wf.render_host_meta(f"{services.config.instance.base_url}/.well-known/webfinger")


def nodeinfo_links(services: Services) -> dict[str, Any]:
    return ni.render_links(f"{services.config.instance.base_url}/nodeinfo/2.1")


USAGE_CACHE_SECONDS = 600


def usage_cache_key(services: Services) -> str:
    return f"{services.config.namespace}:cache:nodeinfo-usage"


async def _counts(services: Services) -> ap_sql.InstanceCounts:
    """The instance's counts, kept in Redis a few minutes: crawlers poll NodeInfo often and
    the counts read every local user (about 0.2 s for 10,000 users)."""
    key = usage_cache_key(services)
    try:
        cached = await services.redis.get(key)
    except RedisError:
        cached = None
    if cached is not None:
        return ap_sql.InstanceCounts(**orjson.loads(cached))
    async with services.pool.acquire() as conn:
        counts = await ap_sql.instance_counts(conn)
    try:
        await services.redis.set(key, orjson.dumps(asdict(counts)), ex=USAGE_CACHE_SECONDS)
    except RedisError:
        pass  # Redis down: NodeInfo still answers, uncached
    return counts


async def nodeinfo(services: Services) -> dict[str, Any]:
    counts = await _counts(services)
    instance = await instance_settings.effective_instance(services)
    return ni.render_nodeinfo(
        ni.Software("stgy", __version__),
        usage=ni.Usage(
            counts.users, counts.active_month, counts.active_halfyear, counts.local_posts
        ),
        # As Mastodon counts it: registrations needing approval are still open.
        open_registrations=instance.registrations != "closed",
        node_name=instance.name,
        node_description=instance.description,
    )
