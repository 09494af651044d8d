"""/api/v1/streaming: Mastodon's streaming API, as server-sent events (one stream per
request) and as one WebSocket carrying many subscriptions, over the Redis channels of
stgy/domain/streaming.py and stgy/domain/public_streams.py."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any, cast

from quart import Blueprint, Quart, Response, current_app, request, stream_with_context, websocket
from quart.blueprints import BlueprintSetupState

from stgy.domain import oauth, streaming
from stgy.http.context import extension, services
from stgy.http.streaming import (
    STREAMS_KEY,
    OpenStreams,
    channel_events,
    event_stream,
    track_streams,
)
from stgy.mastodon.errors import error_response
from stgy.mastodon.statuses import renderer
from stgy.mastodon.stream_subscriptions import (
    Item,
    Renderer,
    StreamError,
    Subscription,
    subscription,
)
from stgy.services import Services
from storage.oauth import TokenHolder
from storage.sessions import Viewer

bp = Blueprint("mastodon_streaming", __name__, url_prefix="/api/v1/streaming")

# A stream outlives its request: the token's session is checked again this often (a
# revoked token or a suspension ends its session, so its open streams end too).
SESSION_CHECK_SECONDS = 60.0
# Open streams (SSE requests and WebSockets) per account in this process, and
# subscriptions per WebSocket: enough for every column of a multi-column client.
MAX_STREAMS_PER_ACCOUNT = 16
MAX_SUBSCRIPTIONS = 32
# Items waiting for a slow WebSocket client before its channel readers wait too.
QUEUE_SIZE = 256
_COUNTS_KEY = "stgy.mastodon.streams"


@bp.record_once
def _track_streams(state: BlueprintSetupState) -> None:
    track_streams(cast(Quart, state.app))


def _counts() -> dict[int, int]:
    counts: dict[int, int] = current_app.extensions.setdefault(_COUNTS_KEY, {})
    return counts


def _opened(counts: dict[int, int], account_id: int) -> None:
    counts[account_id] = counts.get(account_id, 0) + 1


def _closed(counts: dict[int, int], account_id: int) -> None:
    counts[account_id] -= 1
    if counts[account_id] <= 0:
        del counts[account_id]


def _token(headers: Any, args: Any, protocols: list[str]) -> str | None:
    """The token from `Authorization: Bearer`, the `access_token` parameter, or the
    WebSocket subprotocol (browsers cannot set headers on a WebSocket)."""
    scheme, _, value = str(headers.get("Authorization", "")).partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if args.get("access_token"):
        return str(args["access_token"])
    return protocols[0] if protocols else None


async def _holder(token: str | None) -> TokenHolder | StreamError:
    if not token:
        return StreamError("Missing access token", 401)
    holder = await oauth.token_holder(services(), token)
    if holder is None or holder.viewer is None:
        return StreamError("Invalid access token", 401)
    if _counts().get(holder.viewer.account_id, 0) >= MAX_STREAMS_PER_ACCOUNT:
        return StreamError("Too many streams open", 429)
    return holder


# ---- server-sent events


@bp.get("", strict_slashes=False)
async def same_host() -> Response:
    # Without an upgrade: Mastodon redirects to its streaming host, or answers 404
    # when streaming is served by this host, as it is here.
    return error_response(404, "Record not found")


@bp.get("/health", strict_slashes=False)
async def health() -> Response:
    return Response("OK", mimetype="text/plain")


@bp.get("/<path:name>", strict_slashes=False)
async def sse(name: str) -> Response:
    holder = await _holder(_token(request.headers, request.args, []))
    if isinstance(holder, StreamError):
        return error_response(holder.status, holder.message)
    stream = name.replace("/", ":")
    if stream in ("public", "public:local", "public:remote") and _true(
        request.args.get("only_media")
    ):
        stream += ":media"
    try:
        sub = await subscription(
            services(),
            holder,
            stream,
            tag=request.args.get("tag"),
            list_id=request.args.get("list"),
        )
    except StreamError as exc:
        return error_response(exc.status, exc.message)
    viewer = cast(Viewer, holder.viewer)
    render = Renderer(services(), viewer, renderer())
    # The entities name the instance (its config, read in the app context).
    body = stream_with_context(_sse_body)(
        services(), viewer, extension(STREAMS_KEY), sub, render, _counts()
    )
    return event_stream(body)


def _true(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes", "on")


async def _sse_body(
    svc: Services,
    viewer: Viewer,
    streams: OpenStreams,
    sub: Subscription,
    render: Renderer,
    counts: dict[int, int],
) -> AsyncIterator[bytes]:
    async def frame(item: Item) -> bytes | None:
        framed = [
            f"event: {event}\ndata: {payload if payload is not None else 'undefined'}\n\n"
            for _, event, payload in await render.events([sub], item)
        ]
        return "".join(framed).encode() if framed else None

    _opened(counts, viewer.account_id)
    try:
        async for chunk in channel_events(
            svc,
            viewer,
            streams,
            sub.channel,
            frame,
            session_check_seconds=SESSION_CHECK_SECONDS,
            heartbeats=(b":)\n\n", b":thump\n\n"),
        ):
            yield chunk
    finally:
        _closed(counts, viewer.account_id)


# ---- WebSocket


@bp.websocket("", strict_slashes=False)
async def socket() -> Response | None:
    protocols = list(websocket.requested_subprotocols)
    holder = await _holder(_token(websocket.headers, websocket.args, protocols))
    if isinstance(holder, StreamError):
        # Refused before the upgrade: an HTTP answer, as Mastodon's streaming server.
        return error_response(holder.status, holder.message)
    first: Subscription | None = None
    if websocket.args.get("stream"):
        try:
            first = await subscription(
                services(),
                holder,
                websocket.args.get("stream"),
                tag=websocket.args.get("tag"),
                list_id=websocket.args.get("list"),
            )
        except StreamError as exc:
            return error_response(exc.status, exc.message)
    # The token sent as the subprotocol is echoed, or browsers drop the connection.
    await websocket.accept(subprotocol=protocols[0] if protocols else None)
    connection = Connection(services(), holder, extension(STREAMS_KEY), _counts())
    await connection.run(first)
    return None


class Connection:
    """One WebSocket: its subscriptions, a reader task per Redis channel they need, and
    one queue their items come through, in order per channel."""

    def __init__(
        self, svc: Services, holder: TokenHolder, streams: OpenStreams, counts: dict[int, int]
    ) -> None:
        self.svc = svc
        self.counts = counts
        self.holder = holder
        self.viewer = cast(Viewer, holder.viewer)
        self.streams = streams
        self.subs: dict[tuple[str, str | None, int | None], Subscription] = {}
        self.readers: dict[str, tuple[asyncio.Task[None], asyncio.Event]] = {}
        self.queue: asyncio.Queue[tuple[str, streaming.StreamItem | None]] = asyncio.Queue(
            QUEUE_SIZE
        )
        self.render = Renderer(svc, self.viewer, renderer())

    async def run(self, first: Subscription | None) -> None:
        self.streams.opened()
        _opened(self.counts, self.viewer.account_id)
        receiving = asyncio.ensure_future(self._receive())
        try:
            if first is not None:
                self._add(first)
            await self._send_events(receiving)
        finally:
            # The account's count first: once its Redis subscriptions are gone, a new
            # stream of the account is never refused because of this one.
            _closed(self.counts, self.viewer.account_id)
            tasks = [receiving, *(task for task, _ in self.readers.values())]
            for _, ended in self.readers.values():
                ended.set()
            for task in tasks:
                task.cancel()
            # Each reader closes its Redis connection as it ends (channel_stream).
            await asyncio.gather(*tasks, return_exceptions=True)
            self.readers.clear()
            self.streams.closed()

    async def _send_events(self, receiving: asyncio.Future[None]) -> None:
        checked = time.monotonic()
        while True:
            getting = asyncio.ensure_future(self.queue.get())
            waiting: set[asyncio.Future[Any]] = {getting, receiving}
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if getting not in done:
                getting.cancel()
                return  # the client went away (or sent a close)
            channel, item = getting.result()
            if item is None:
                return  # a reader ended: Redis went away or the app is shutting down
            if isinstance(item, streaming.Keepalive):
                if time.monotonic() - checked > SESSION_CHECK_SECONDS:
                    checked = time.monotonic()
                    if not await streaming.session_active(self.svc, self.viewer):
                        await websocket.close(1008, "session ended")
                        return
                continue
            subs = [s for s in self.subs.values() if s.channel == channel]
            for sub, event, payload in await self.render.events(subs, item):
                message: dict[str, Any] = {"stream": sub.names, "event": event}
                if payload is not None:
                    message["payload"] = payload
                await websocket.send(json.dumps(message, ensure_ascii=False))

    async def _receive(self) -> None:
        while True:
            data = await websocket.receive()
            error = await self._command(data)
            if error is not None:
                await websocket.send(json.dumps({"error": error.message, "status": error.status}))

    async def _command(self, data: str | bytes) -> StreamError | None:
        """Apply a client's subscribe or unsubscribe message; its error, if any."""
        try:
            body = json.loads(data)
        except ValueError:
            return StreamError("Could not parse message")
        if not isinstance(body, dict) or body.get("type") not in ("subscribe", "unsubscribe"):
            return StreamError("Unknown message type")
        params = {k: body.get(k) for k in ("stream", "tag", "list")}
        if not all(v is None or isinstance(v, str | int) for v in params.values()):
            return StreamError("Unknown stream type")
        try:
            sub = await subscription(
                self.svc,
                self.holder,
                str(params["stream"]) if params["stream"] is not None else None,
                tag=str(params["tag"]) if params["tag"] is not None else None,
                list_id=str(params["list"]) if params["list"] is not None else None,
            )
        except StreamError as exc:
            return exc
        if body["type"] == "unsubscribe":
            self._remove(sub)
            return None
        if len(self.subs) >= MAX_SUBSCRIPTIONS and _key(sub) not in self.subs:
            return StreamError("Too many subscriptions", 429)
        self._add(sub)
        return None

    def _add(self, sub: Subscription) -> None:
        self.subs[_key(sub)] = sub
        if sub.channel not in self.readers:
            ended = asyncio.Event()
            reader = asyncio.ensure_future(self._read(sub.channel, ended))
            self.readers[sub.channel] = (reader, ended)

    def _remove(self, sub: Subscription) -> None:
        self.subs.pop(_key(sub), None)
        if not any(s.channel == sub.channel for s in self.subs.values()):
            found = self.readers.pop(sub.channel, None)
            if found is not None:
                found[1].set()
                found[0].cancel()

    async def _read(self, channel: str, ended: asyncio.Event) -> None:
        items = streaming.channel_stream(self.svc, channel, self.streams.closing, ended=ended)
        async with contextlib.aclosing(items):
            async for item in items:
                if ended.is_set():
                    return
                await self.queue.put((channel, item))
        if not ended.is_set():
            await self.queue.put((channel, None))  # not asked to end: tell the connection


def _key(sub: Subscription) -> tuple[str, str | None, int | None]:
    return (sub.stream, sub.tag.lower() if sub.tag else None, sub.list_id)
