"""Remote interaction: sending a visitor to their own server to follow an account or
answer a post of ours, through the subscribe link of their WebFinger answer (the
`http://ostatus.org/schema/1.0/subscribe` template Mastodon and others publish)."""

from __future__ import annotations

import logging
from urllib.parse import quote

from federation import fetch, lookup
from federation import webfinger as wf
from stgy.domain import ratelimit
from stgy.domain.errors import Invalid
from stgy.domain.remote.discovery import AUTHORIZE_INTERACTION
from stgy.domain.remote.remote_keys import is_blocked
from stgy.domain.remote.resolve import parse_acct
from stgy.domain.remote.resolve_url import check_url
from stgy.logs import quote as log_quote
from stgy.services import Services

log = logging.getLogger("stgy.fetch")

# The reasons the form shows (translated by the web face).
NOT_AN_ADDRESS = "expected your address as user@server"
UNREACHABLE = "your server could not be reached"
NO_ACCOUNT = "your server does not know this account"
NO_TEMPLATE = "your server does not offer remote interaction"


def fill_template(template: str, uri: str) -> str:
    return template.replace("{uri}", quote(uri, safe=""))


async def interaction_url(services: Services, acct: str, uri: str, *, client: str | None) -> str:
    """Where to send the owner of `acct` (`user@server`) to interact with `uri` (an
    account's or a post's ActivityPub id): their server's subscribe template, filled in.
    Invalid("acct") when the address is not one, or their server cannot tell."""
    uri = check_url(uri)
    try:
        user, host = parse_acct(acct.strip())
    except Invalid:
        raise Invalid("acct", NOT_AN_ADDRESS) from None
    if host is None:
        raise Invalid("acct", NOT_AN_ADDRESS)
    instance = services.config.instance
    if host in (instance.domain.lower(), instance.host.lower()):
        # One of ours came the long way round: straight to our own page.
        return fill_template(f"{instance.base_url}{AUTHORIZE_INTERACTION}?uri={{uri}}", uri)
    if not services.config.federation.enabled or await is_blocked(services, host):
        raise Invalid("acct", UNREACHABLE)
    if client is not None:
        await ratelimit.count_write(services, client)
    try:
        jrd = await lookup.webfinger(
            services.http, user, host, allow_private=services.config.address_scope
        )
    except fetch.FetchError as exc:
        log.info(
            "interact_webfinger_failed host=%s reason=%s", log_quote(host), log_quote(str(exc))
        )
        raise Invalid("acct", NO_ACCOUNT if exc.gone else UNREACHABLE) from None
    except wf.WebFingerError:
        raise Invalid("acct", NO_TEMPLATE) from None
    if jrd.subscribe_template is None:
        raise Invalid("acct", NO_TEMPLATE)
    return fill_template(jrd.subscribe_template, uri)
