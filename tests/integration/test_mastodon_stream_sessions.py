"""A Mastodon stream outlives its request: revoking its token ends it (the session is
checked again as the stream runs), in-process with short intervals."""

from __future__ import annotations

import asyncio

import pytest
from quart.testing.connections import WebsocketDisconnectError
from quart.typing import TestClientProtocol as Client

from stgy.domain import oauth, streaming
from stgy.mastodon import streaming as mastodon_streaming
from stgy.services import Services
from tests.conftest import make_user, wait_for

REDIRECT = "https://app.example/callback"


async def app_token(services: Services, account_id: int) -> tuple[str, oauth.OAuthApp]:
    """A token for a registered app, through the same domain calls the consent form and
    the token endpoint make."""
    registered = await oauth.register_app(
        services, name="Stream test", redirect_uris=[REDIRECT], scopes="read", website=None
    )
    request = await oauth.check_authorization_request(
        services,
        client_id=registered.app.client_id,
        redirect_uri=REDIRECT,
        response_type="code",
        scope="read",
        state=None,
        code_challenge=None,
        code_challenge_method=None,
    )
    code = await oauth.issue_code(services, request, account_id)
    issued = await oauth.exchange_code(
        services,
        registered.app,
        code=code,
        redirect_uri=REDIRECT,
        code_verifier=None,
        ip="127.0.0.1",
    )
    return issued.access_token, registered.app


async def subscribed(services: Services, channel: str) -> bool:
    [(_, count)] = await services.redis.pubsub_numsub(channel)
    return int(count) > 0


async def unsubscribed(services: Services, channel: str) -> bool:
    return not await subscribed(services, channel)


async def test_a_revoked_token_ends_its_websocket(
    client: Client, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(streaming, "KEEPALIVE_SECONDS", 0.1)
    monkeypatch.setattr(mastodon_streaming, "SESSION_CHECK_SECONDS", 0.0)
    user = await make_user(client)
    token, app = await app_token(services, int(user.id))
    path = f"/api/v1/streaming?stream=user&access_token={token}"
    async with client.websocket(path) as ws:
        await ws.send('{"type": "subscribe", "stream": "public"}')
        channel = streaming.user_channel(services.config, int(user.id))
        await wait_for(lambda: subscribed(services, channel))
        await oauth.revoke(services, app, token)
        with pytest.raises(WebsocketDisconnectError):
            # Nothing is published: only the session check can end the socket.
            await asyncio.wait_for(ws.receive(), 10)
    # Its Redis subscriptions went with it.
    await wait_for(lambda: unsubscribed(services, channel))
