"""NodeInfo 2.1: the `/.well-known/nodeinfo` links document and the schema 2.1 document."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

SCHEMA_21 = "http://nodeinfo.diaspora.software/ns/schema/2.1"
CONTENT_TYPE_21 = f'application/json; profile="{SCHEMA_21}#"'
# The schema's patterns: software names are lowercase words joined by hyphens.
_SOFTWARE_NAME_RE = re.compile(r"^[a-z0-9-]+$")
PROTOCOLS = frozenset(
    {
        "activitypub",
        "buddycloud",
        "dfrn",
        "diaspora",
        "libertree",
        "ostatus",
        "pumpio",
        "tent",
        "xmpp",
        "zot",
    }
)


@dataclass(frozen=True)
class Usage:
    users_total: int
    users_active_month: int
    users_active_halfyear: int
    local_posts: int


@dataclass(frozen=True)
class Software:
    name: str
    version: str
    repository: str | None = None
    homepage: str | None = None


def render_links(nodeinfo_21_url: str) -> dict[str, Any]:
    """The discovery document: where the schema 2.1 document lives."""
    return {"links": [{"rel": SCHEMA_21, "href": nodeinfo_21_url}]}


def render_nodeinfo(
    software: Software,
    *,
    usage: Usage,
    open_registrations: bool,
    protocols: Sequence[str] = ("activitypub",),
    node_name: str = "",
    node_description: str = "",
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A NodeInfo 2.1 document; raises ValueError for values the schema does not allow."""
    if not _SOFTWARE_NAME_RE.match(software.name):
        raise ValueError(f"software name must match {_SOFTWARE_NAME_RE.pattern}")
    if not protocols or not set(protocols) <= PROTOCOLS:
        raise ValueError(f"protocols must be one or more of {sorted(PROTOCOLS)}")
    counts = (
        usage.users_total,
        usage.users_active_month,
        usage.users_active_halfyear,
        usage.local_posts,
    )
    if min(counts) < 0:
        raise ValueError("usage counts must not be negative")
    described: dict[str, Any] = {"name": software.name, "version": software.version}
    if software.repository:
        described["repository"] = software.repository
    if software.homepage:
        described["homepage"] = software.homepage
    return {
        "version": "2.1",
        "software": described,
        "protocols": list(dict.fromkeys(protocols)),
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": open_registrations,
        "usage": {
            "users": {
                "total": usage.users_total,
                "activeMonth": usage.users_active_month,
                "activeHalfyear": usage.users_active_halfyear,
            },
            "localPosts": usage.local_posts,
        },
        "metadata": {
            "nodeName": node_name,
            "nodeDescription": node_description,
            **(metadata or {}),
        },
    }


def find_nodeinfo_url(links: Any) -> str | None:
    """The newest NodeInfo 2.x document a server's links document names, if any."""
    if not isinstance(links, dict) or not isinstance(links.get("links"), list):
        return None
    found: dict[str, str] = {}
    for link in links["links"]:
        if isinstance(link, dict) and isinstance(link.get("href"), str):
            rel = link.get("rel")
            if isinstance(rel, str) and rel.startswith(
                "http://nodeinfo.diaspora.software/ns/schema/2."
            ):
                found[rel] = link["href"]
    return found[max(found)] if found else None
