"""Server-sent event streams every face shares: the open-stream count, the loop, the frames.

The API (`/api/streaming`, bearer token) and the web face (`/stream`, session cookie)
authenticate differently and word their events differently; the loop that reads the
domain's `user_stream`, re-checks the session and sends keepalives is this one, and
both count in the same `OpenStreams`, so shutting the app down ends them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from quart import Quart, Response

from stgy.domain import streaming
from stgy.services import Services
from storage.sessions import Viewer

STREAMS_KEY = "stgy.streams"
_TRACKED_KEY = "stgy.streams.tracked"
SHUTDOWN_WAIT_SECONDS = 5.0

# What a face makes of an event for its client: a frame, or None to send nothing.
LiveEvent = streaming.NotificationEvent | streaming.UpdateEvent
EventFrame = Callable[[LiveEvent], Awaitable[bytes | None]]
# The Mastodon face takes every kind of item (edits, deletions, filter changes...).
AnyEvent = (
    streaming.NotificationEvent
    | streaming.PostEvent
    | streaming.ConversationEvent
    | streaming.FiltersChanged
)
AnyEventFrame = Callable[[AnyEvent], Awaitable[bytes | None]]


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


def track_streams(app: Quart) -> None:
    """Keep the app's `OpenStreams` while it serves and end them first on shutdown.
    Every face with a stream calls this; the hooks are installed once."""
    if app.extensions.get(_TRACKED_KEY):
        return
    app.extensions[_TRACKED_KEY] = True

    @app.before_serving
    async def open_streams() -> None:
        streams = OpenStreams()
        streams.idle.set()
        app.extensions[STREAMS_KEY] = streams

    @app.after_serving
    async def close_streams() -> None:
        # Runs before the services close (the faces register before the app's own
        # hooks), so every stream unsubscribes while Redis is still there.
        streams: OpenStreams | None = app.extensions.pop(STREAMS_KEY, None)
        if streams is None:
            return
        streams.closing.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(streams.idle.wait(), SHUTDOWN_WAIT_SECONDS)


def frame(event: str, data: dict[str, Any]) -> bytes:
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return f"event: {event}\ndata: {body}\n\n".encode()


def event_stream(body: AsyncIterator[bytes]) -> Response:
    """The answer that carries a stream: unbuffered, uncached, never timed out."""
    response = Response(body, mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    response.timeout = None  # Quart's response timeout would cut the stream off
    return response


def events(
    svc: Services,
    viewer: Viewer,
    streams: OpenStreams,
    render: EventFrame,
    *,
    session_check_seconds: float,
) -> AsyncIterator[bytes]:
    """The viewer's stream as bytes: `: connected` once subscribed, `: keepalive` while
    idle, each event as `render` frames it (notifications and home updates only)."""

    async def live_only(item: AnyEvent) -> bytes | None:
        if isinstance(item, streaming.NotificationEvent | streaming.UpdateEvent):
            return await render(item)
        return None

    channel = streaming.user_channel(svc.config, viewer.account_id)
    return channel_events(
        svc, viewer, streams, channel, live_only, session_check_seconds=session_check_seconds
    )


async def channel_events(
    svc: Services,
    viewer: Viewer,
    streams: OpenStreams,
    channel: str,
    render: AnyEventFrame,
    *,
    session_check_seconds: float,
    heartbeats: tuple[bytes, bytes] = (b": connected\n\n", b": keepalive\n\n"),
) -> AsyncIterator[bytes]:
    """One channel's stream as bytes: the first heartbeat once subscribed, the second
    while idle, each event as `render` frames it. A stream outlives its request, so the
    session behind it is checked again every `session_check_seconds`: a logout or a
    suspension ends open streams too."""
    streams.opened()
    checked = time.monotonic()
    try:
        items = streaming.channel_stream(svc, channel, streams.closing)
        async with contextlib.aclosing(items):
            first = True
            async for item in items:
                if isinstance(item, streaming.Keepalive):
                    if time.monotonic() - checked > session_check_seconds:
                        checked = time.monotonic()
                        if not await streaming.session_active(svc, viewer):
                            return
                    yield heartbeats[0] if first else heartbeats[1]
                    first = False
                else:
                    framed = await render(item)
                    if framed is not None:
                        yield framed
    finally:
        streams.closed()
