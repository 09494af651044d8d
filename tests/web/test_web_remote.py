"""A remote account's profile page: looked up through WebFinger on a Mastodon-shaped
server on loopback, as `GET /api/accounts/@user@host` does."""

from __future__ import annotations

from quart.typing import TestClientProtocol as Client

from tests.integration.fetch_peer import (
    Peer,
    fed_client,
    fed_config,
    fed_services,
    peer,
)


async def test_a_remote_profile_is_found_through_webfinger(fed_client: Client, peer: Peer) -> None:
    peer.add_actor("bob", name="Bob Remote")
    response = await fed_client.get(f"/@bob@{peer.host}")
    assert response.status_code == 200, await response.get_data(as_text=True)
    text = await response.get_data(as_text=True)
    assert "Bob Remote" in text and f"@bob@{peer.host}" in text
    assert peer.requests[0].startswith("/.well-known/webfinger?resource=acct")
    # The remote bio is sanitised HTML that htmx must ignore; its own page is linked.
    assert '<div class="bio" hx-disable>' in text
    assert f'<a href="{peer.base}/@bob" rel="nofollow noopener ugc">' in text
    # A visitor is asked to log in to follow.
    assert f'href="/auth/login?next=/@bob@{peer.host}"' in text
    missing = await fed_client.get(f"/@nobody@{peer.host}")
    assert missing.status_code == 404
