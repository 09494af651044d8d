"""Native API: server-sent events of the viewer's notifications and home timeline updates."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from pydantic import Field
from quart import Blueprint, Quart, Response
from quart.blueprints import BlueprintSetupState
from quart_schema import hide

from stgy.api.notifications import notification_json
from stgy.api.serializers import post_json
from stgy.domain import auth, notifications, streaming
from stgy.http.context import extension, require_viewer, services, token_key
from stgy.http.validation import QueryModel, query
from stgy.services import Services
from storage.sessions import Viewer

log = logging.getLogger("stgy.streaming")

bp = Blueprint("streaming", __name__, url_prefix="/api")

STREAMS_KEY = "stgy.streams"
# A stream outlives its request: the session behind it is checked again this often,
# so logging out or suspension ends open streams too. (The token's own expiry does
# not: it was checked when the stream opened, as for any request.)
SESSION_CHECK_SECONDS = 60.0
SHUTDOWN_WAIT_SECONDS = 5.0


@dataclass
class OpenStreams:
    """The process's open streams: set `closing` and they end (the app is shutting down)."""

    closing: asyncio.Event = field(default_factory=asyncio.Event)
    count: int = 0
    idle: asyncio.Event = field(default_factory=asyncio.Event)

    def opened(self) -> None:
        self.count += 1
        self.idle.clear()

    def closed(self) -> None:
        self.count -= 1
        if self.count == 0:
            self.idle.set()


@bp.record_once
def _track_streams(state: BlueprintSetupState) -> None:
    app = cast(Quart, state.app)

    @app.before_serving
    async def open_streams() -> None:
        streams = OpenStreams()
        streams.idle.set()
        app.extensions[STREAMS_KEY] = streams

    @app.after_serving
    async def close_streams() -> None:
        # Runs before the services close (blueprints register first), so every
        # stream unsubscribes while Redis is still there.
        streams: OpenStreams | None = app.extensions.pop(STREAMS_KEY, None)
        if streams is None:
            return
        streams.closing.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(streams.idle.wait(), SHUTDOWN_WAIT_SECONDS)


class StreamingQuery(QueryModel):
    stream: Literal["user"] = Field(
        default="user", description="user: the viewer's notifications and home timeline"
    )
    access_token: str | None = Field(
        default=None, description="the bearer token, for clients that cannot set headers"
    )


def frame(event: str, data: dict[str, Any]) -> bytes:
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return f"event: {event}\ndata: {body}\n\n".encode()


async def _viewer(token: str | None) -> Viewer:
    if token:
        return await auth.authenticate(services(), token_key(), token)
    return await require_viewer()


@bp.get("/streaming")
@hide  # a never-ending body: described in docs/api.md, not for generated API tests
@query(StreamingQuery)
async def stream(query: StreamingQuery) -> Response:
    viewer = await _viewer(query.access_token)
    streams: OpenStreams = extension(STREAMS_KEY)
    body = _events(services(), viewer, streams)
    response = Response(body, mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    response.timeout = None  # Quart's response timeout would cut the stream off
    return response


async def _events(svc: Services, viewer: Viewer, streams: OpenStreams) -> AsyncIterator[bytes]:
    streams.opened()
    checked = time.monotonic()
    try:
        items = streaming.user_stream(svc, viewer.account_id, streams.closing)
        async with contextlib.aclosing(items):
            first = True
            async for item in items:
                if isinstance(item, streaming.Keepalive):
                    if time.monotonic() - checked > SESSION_CHECK_SECONDS:
                        checked = time.monotonic()
                        if not await streaming.session_active(svc, viewer):
                            return
                    yield b": connected\n\n" if first else b": keepalive\n\n"
                    first = False
                elif isinstance(item, streaming.NotificationEvent):
                    view = await notifications.view_of(svc, viewer.account_id, item.notification)
                    if view is not None:
                        yield frame("notification", notification_json(view))
                elif isinstance(item, streaming.UpdateEvent):
                    post = await streaming.post_view(svc, viewer.account_id, item.post_id)
                    if post is not None:
                        yield frame("update", post_json(post))
    finally:
        streams.closed()
