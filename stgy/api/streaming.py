"""Native API: server-sent events of the viewer's notifications and home timeline updates."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal, cast

from pydantic import Field
from quart import Blueprint, Quart, Response
from quart.blueprints import BlueprintSetupState
from quart_schema import hide

from stgy.api.notifications import notification_json
from stgy.api.serializers import post_json
from stgy.domain import auth, notifications, streaming
from stgy.http.context import extension, require_viewer, services, token_key
from stgy.http.streaming import STREAMS_KEY, OpenStreams, event_stream, events, frame, track_streams
from stgy.http.validation import QueryModel, query
from stgy.services import Services
from storage.sessions import Viewer

bp = Blueprint("streaming", __name__, url_prefix="/api")

# A stream outlives its request: the session behind it is checked again this often,
# so logging out or suspension ends open streams too. (The token's own expiry does
# not: it was checked when the stream opened, as for any request.)
SESSION_CHECK_SECONDS = 60.0


@bp.record_once
def _track_streams(state: BlueprintSetupState) -> None:
    track_streams(cast(Quart, state.app))


class StreamingQuery(QueryModel):
    stream: Literal["user"] = Field(
        default="user", description="user: the viewer's notifications and home timeline"
    )
    access_token: str | None = Field(
        default=None, description="the bearer token, for clients that cannot set headers"
    )


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
    return event_stream(_events(services(), viewer, streams))


def _events(svc: Services, viewer: Viewer, streams: OpenStreams) -> AsyncIterator[bytes]:
    async def render(item: streaming.NotificationEvent | streaming.UpdateEvent) -> bytes | None:
        if isinstance(item, streaming.NotificationEvent):
            view = await notifications.view_of(svc, viewer.account_id, item.notification)
            return frame("notification", notification_json(view)) if view is not None else None
        post = await streaming.post_view(svc, viewer.account_id, item.post_id)
        return frame("update", post_json(post)) if post is not None else None

    return events(svc, viewer, streams, render, session_check_seconds=SESSION_CHECK_SECONDS)
