"""/stream: the logged-in browser's live events (server-sent), for the home page's
"new posts" bar and the header's unread count.

A browser's EventSource cannot send a bearer header, so this is the API's stream
authenticated by the session cookie instead, through the same loop (stgy/http/streaming)
and counted with the API's open streams. Its events are small: the page only needs to
know that something arrived, and loads what to show as HTML when asked.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from quart import Blueprint, Response

from stgy.domain import notifications, streaming
from stgy.domain.errors import Unauthorized
from stgy.http.context import extension
from stgy.http.streaming import STREAMS_KEY, OpenStreams, event_stream, events, frame
from stgy.services import Services
from stgy.web import context
from storage.sessions import Viewer

bp = Blueprint("live", __name__)

# The session row is read again this often while a stream is open, so a logout (here
# or from the sessions page) ends the browser's open streams within about a minute.
SESSION_CHECK_SECONDS = 60.0


@bp.get("/stream")
async def stream() -> Response:
    viewer = await context.maybe_viewer()
    if viewer is None:
        raise Unauthorized("log in first")
    streams: OpenStreams = extension(STREAMS_KEY)
    return event_stream(_events(context.services(), viewer, streams))


def _events(svc: Services, viewer: Viewer, streams: OpenStreams) -> AsyncIterator[bytes]:
    async def render(item: streaming.NotificationEvent | streaming.UpdateEvent) -> bytes | None:
        # The same checks as the API's stream (not for this viewer, or deleted since:
        # nothing), then only the id: the page counts, and fetches HTML when asked.
        if isinstance(item, streaming.NotificationEvent):
            view = await notifications.view_of(svc, viewer.account_id, item.notification)
            if view is None:
                return None
            return frame("notification", {"id": str(item.notification.id)})
        post = await streaming.post_view(svc, viewer.account_id, item.post_id)
        return frame("update", {"id": str(item.post_id)}) if post is not None else None

    return events(svc, viewer, streams, render, session_check_seconds=SESSION_CHECK_SECONDS)
