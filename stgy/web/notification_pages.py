"""/notifications: the viewer's notifications, paged by id, and the unread count in the header."""

from __future__ import annotations

from quart import Blueprint, Response, request

from stgy.domain import notifications
from stgy.domain.errors import Invalid
from stgy.web import context
from stgy.web.rendering import go_to, render_page

bp = Blueprint("notification_pages", __name__)

PAGE = 30


def _cursor(value: str | None) -> int | None:
    if not value:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 19:
        raise Invalid("until", "must be an id (a decimal string)")
    return int(value)


@bp.get("/notifications")
async def notifications_page() -> Response:
    viewer = await context.maybe_viewer()
    if viewer is None:
        return go_to("/auth/login?next=/notifications")
    until = _cursor(request.args.get("until"))
    services = context.services()
    views = await notifications.list_notifications(
        services, viewer.account_id, until=until, limit=PAGE + 1
    )
    more = len(views) > PAGE
    views = views[:PAGE]
    if views and any(view.notification.read_at is None for view in views):
        # Seen now: read up to the newest shown, as an API client marks what it showed.
        newest = max(view.notification.id for view in views)
        await notifications.mark_read(services, viewer.account_id, up_to=newest, ids=None)
    return await render_page(
        "pages/notifications.html",
        views=views,
        older=str(views[-1].notification.id) if more and views else None,
        paged=until is not None,
    )


async def unread_badge() -> dict[str, object]:
    """`unread_notifications` and `follow_requests` for the header: counted in the
    statement that read the session (context.viewer_header); after a log-in in this
    request, counted alone (one statement for both)."""
    viewer = await context.maybe_viewer()
    if viewer is None:
        return {"unread_notifications": 0, "follow_requests": 0}
    header = await context.viewer_header()
    if header is not None and header.viewer is viewer:
        return {
            "unread_notifications": header.unread_notifications,
            "follow_requests": header.follow_requests,
        }
    counts = await notifications.header_counts(context.services(), viewer.account_id)
    return {
        "unread_notifications": counts.unread_notifications,
        "follow_requests": counts.follow_requests,
    }
