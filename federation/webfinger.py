"""WebFinger (RFC 7033) and host-meta (RFC 6415): resources, our JRDs, and reading theirs."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

JRD_CONTENT_TYPE = "application/jrd+json"
XRD_CONTENT_TYPE = "application/xrd+xml"
PROFILE_PAGE = "http://webfinger.net/rel/profile-page"
SUBSCRIBE = "http://ostatus.org/schema/1.0/subscribe"
ACTIVITY_JSON = "application/activity+json"
# The `self` link types that name an ActivityPub actor, in order of preference.
_ACTOR_TYPES = (
    "application/activity+json",
    'application/ld+json;profile="https://www.w3.org/ns/activitystreams"',
)
_HOST_RE = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$")
MAX_RESOURCE = 2048


class WebFingerError(ValueError):
    """A resource or JRD we cannot use; the message says why."""


@dataclass(frozen=True)
class Resource:
    """A WebFinger resource: an `acct:` URI (user and host) or an http(s) URL."""

    scheme: str  # "acct", "https" or "http"
    host: str  # lowercased, with the port when one was given
    user: str | None = None  # acct only
    url: str | None = None  # http(s) only

    @property
    def hostname(self) -> str:
        """The host without its port."""
        return self.host.rsplit(":", 1)[0] if ":" in self.host else self.host


def _check_host(host: str, resource: str) -> str:
    host = host.lower()
    if not _HOST_RE.match(host):
        raise WebFingerError(f"not a host name: {host!r} in {resource!r}")
    return host


def parse_resource(resource: str) -> Resource:
    """Read `acct:user@host` (also bare `user@host` or `@user@host`) or an http(s) URL."""
    if not resource:
        raise WebFingerError("the resource is empty")
    if len(resource) > MAX_RESOURCE:
        raise WebFingerError(f"the resource is longer than {MAX_RESOURCE} characters")
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in resource):
        raise WebFingerError("the resource contains spaces or control characters")
    scheme, colon, rest = resource.partition(":")
    scheme = scheme.lower()
    if colon and scheme in ("http", "https"):
        try:
            parts = urlsplit(resource)
            port = parts.port
        except ValueError as exc:
            raise WebFingerError(f"not a URL: {exc}") from None
        if not parts.hostname or parts.username is not None or parts.password is not None:
            raise WebFingerError(f"a URL resource needs a host and no user info: {resource!r}")
        if port == {"http": 80, "https": 443}[scheme]:
            port = None  # the scheme's own port names the same host
        host = _check_host(parts.hostname + (f":{port}" if port is not None else ""), resource)
        return Resource(scheme=scheme, host=host, url=resource)
    if colon and scheme == "acct":
        account = rest
    elif colon and "@" not in scheme:
        raise WebFingerError(f"unsupported resource scheme {scheme!r} (use acct: or https:)")
    else:
        account = resource.removeprefix("@")  # tolerated: user@host without the scheme
    user, at, host = account.rpartition("@")
    user = unquote(user)
    if not at or not user or not host:
        raise WebFingerError(f"an acct: resource is user@host: {resource!r}")
    return Resource(scheme="acct", host=_check_host(host, resource), user=user)


def acct_uri(user: str, host: str) -> str:
    return f"acct:{user}@{host}"


def build_jrd(
    subject: str,
    actor_url: str,
    profile_url: str | None = None,
    *,
    subscribe_template: str | None = None,
) -> dict[str, Any]:
    """Our answer for an account: its actor (`self`) and profile page, as Mastodon lists them."""
    aliases = list(dict.fromkeys(url for url in (actor_url, profile_url) if url))
    links: list[dict[str, str]] = []
    if profile_url:
        links.append({"rel": PROFILE_PAGE, "type": "text/html", "href": profile_url})
    links.append({"rel": "self", "type": ACTIVITY_JSON, "href": actor_url})
    if subscribe_template:
        links.append({"rel": SUBSCRIBE, "template": subscribe_template})
    return {"subject": subject, "aliases": aliases, "links": links}


def select_links(jrd: dict[str, Any], rels: Iterable[str]) -> dict[str, Any]:
    """The JRD with only the links of the given relations (the `rel` query parameter)."""
    wanted = set(rels)
    if not wanted:
        return jrd
    return {**jrd, "links": [link for link in jrd["links"] if link.get("rel") in wanted]}


def render_host_meta(webfinger_url: str) -> str:
    """The host-meta XRD pointing `lrdd` lookups at our WebFinger endpoint."""
    template = html.escape(f"{webfinger_url}?resource={{uri}}", quote=True)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" template="{template}"/>\n'
        "</XRD>\n"
    )


# --- reading other servers' answers ---------------------------------------------------


@dataclass(frozen=True)
class RemoteJrd:
    subject: str | None
    aliases: tuple[str, ...]
    actor_url: str
    profile_url: str | None
    # The remote-interaction page (`rel` SUBSCRIBE), `{uri}` in it standing for an object.
    subscribe_template: str | None = None


def _is_http_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _normal_type(media_type: object) -> str:
    return "".join(media_type.split()).lower() if isinstance(media_type, str) else ""


def find_self_link(jrd: Any) -> str:
    """The actor URL a JRD names with `rel="self"` and an ActivityPub type."""
    if not isinstance(jrd, dict) or not isinstance(jrd.get("links"), list):
        raise WebFingerError("not a JRD: expected an object with a links list")
    candidates = [
        link
        for link in jrd["links"]
        if isinstance(link, dict) and link.get("rel") == "self" and _is_http_url(link.get("href"))
    ]
    for media_type in _ACTOR_TYPES:
        for link in candidates:
            if _normal_type(link.get("type")) == media_type:
                href: str = link["href"]
                return href
    raise WebFingerError("the JRD has no self link to an ActivityPub actor")


def parse_jrd(jrd: Any) -> RemoteJrd:
    """The parts of another server's JRD we use: subject, aliases, actor, profile page."""
    actor_url = find_self_link(jrd)
    subject = jrd.get("subject")
    aliases = jrd.get("aliases")
    profile = next(
        (
            link["href"]
            for link in jrd["links"]
            if isinstance(link, dict)
            and link.get("rel") == PROFILE_PAGE
            and _is_http_url(link.get("href"))
        ),
        None,
    )
    return RemoteJrd(
        subject=subject if isinstance(subject, str) else None,
        aliases=tuple(a for a in aliases if isinstance(a, str))
        if isinstance(aliases, list)
        else (),
        actor_url=actor_url,
        profile_url=profile,
        subscribe_template=find_subscribe_template(jrd),
    )


def find_subscribe_template(jrd: Any) -> str | None:
    """The template of a JRD's remote-interaction link (an http(s) URL with `{uri}`, as
    Mastodon and others publish it), or None when it has none we can use."""
    if not isinstance(jrd, dict) or not isinstance(jrd.get("links"), list):
        return None
    for link in jrd["links"]:
        if not isinstance(link, dict) or link.get("rel") != SUBSCRIBE:
            continue
        template = link.get("template")
        if isinstance(template, str) and "{uri}" in template and _is_http_url(template):
            return template
    return None
