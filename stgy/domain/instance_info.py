"""What the instance tells visitors about itself: name, description, contact, sign-ups, figures."""

from __future__ import annotations

from dataclasses import dataclass

from stgy import __version__
from stgy.domain import instance_settings
from stgy.domain.remote import discovery
from stgy.services import Services
from storage import activitypub as activitypub_sql


@dataclass(frozen=True)
class InstanceInfo:
    domain: str
    name: str
    description: str
    contact_email: str
    registrations: str  # open | approval | closed
    users: int
    active_month: int
    local_posts: int
    version: str


async def about(services: Services) -> InstanceInfo:
    """The instance's self-description; the figures are NodeInfo's (cached a few minutes)."""
    instance = await instance_settings.effective_instance(services)
    usage = (await discovery.nodeinfo(services))["usage"]
    return InstanceInfo(
        domain=instance.domain,
        name=instance.name,
        description=instance.description,
        contact_email=instance.contact_email,
        registrations=instance.registrations,
        users=int(usage["users"]["total"]),
        active_month=int(usage["users"]["activeMonth"]),
        local_posts=int(usage["localPosts"]),
        version=__version__,
    )


async def known_domains(services: Services) -> int:
    """How many other servers this one knows of (Mastodon's `stats.domain_count`)."""
    async with services.pool.acquire() as conn:
        return await activitypub_sql.known_domains_count(conn)


async def peer_domains(services: Services) -> list[str]:
    """The other servers this one knows of (Mastodon's `/api/v1/instance/peers`)."""
    async with services.pool.acquire() as conn:
        return await activitypub_sql.known_domains(conn)
