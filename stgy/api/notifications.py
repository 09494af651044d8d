"""Native API: the viewer's notifications, their read state and unread count."""

from __future__ import annotations

from typing import Any

from pydantic import Field
from quart import Blueprint, Response, jsonify

from stgy.api import schemas
from stgy.api.serializers import account_json, iso, post_json
from stgy.domain import notifications
from stgy.domain.errors import Invalid
from stgy.domain.notifications import NotificationView
from stgy.http.context import require_viewer, services
from stgy.http.validation import QueryModel, json_body, parse_cursor, query, responds

bp = Blueprint("notifications", __name__, url_prefix="/api")


class NotificationsQuery(QueryModel):
    types: str | None = Field(default=None, description="only these types, comma-separated")
    exclude_types: str | None = Field(default=None, description="not these types")
    since: str | None = Field(default=None, description="only notifications newer than this id")
    until: str | None = Field(default=None, description="only notifications older than this id")
    limit: int = Field(default=notifications.DEFAULT_PAGE, ge=1, le=notifications.MAX_PAGE)


def notification_json(view: NotificationView) -> dict[str, Any]:
    n = view.notification
    return {
        "id": str(n.id),
        "type": n.type,
        "created_at": iso(n.created_at),
        "read": n.read_at is not None,
        "account": account_json(view.account),
        "post": post_json(view.post) if view.post is not None else None,
        "text": n.text,
    }


@bp.get("/notifications")
@query(NotificationsQuery)
@responds(schemas.NotificationPage)
@schemas.fails_with(400, 401)
async def list_notifications(query: NotificationsQuery) -> Response:
    viewer = await require_viewer()
    views = await notifications.list_notifications(
        services(),
        viewer.account_id,
        types=notifications.parse_types(query.types, "types"),
        exclude_types=notifications.parse_types(query.exclude_types, "exclude_types"),
        since=parse_cursor(query.since, "since"),
        until=parse_cursor(query.until, "until"),
        limit=query.limit,
    )
    return jsonify(
        {
            "notifications": [notification_json(view) for view in views],
            "newest": str(views[0].notification.id) if views else None,
            "oldest": str(views[-1].notification.id) if views else None,
        }
    )


@bp.post("/notifications/read")
@json_body(schemas.MarkReadIn)
@responds(None, 204)
@schemas.fails_with(400, 401)
async def mark_read(body: schemas.MarkReadIn) -> tuple[str, int]:
    viewer = await require_viewer()
    up_to = parse_cursor(body.up_to, "up_to") if body.up_to is not None else None
    ids = None
    if body.ids is not None:
        ids = []
        for i, value in enumerate(body.ids):
            parsed = parse_cursor(value, f"ids.{i}")
            if parsed is None:
                raise Invalid(f"ids.{i}", "must be an id (a decimal string)")
            ids.append(parsed)
    await notifications.mark_read(services(), viewer.account_id, up_to=up_to, ids=ids)
    return "", 204


@bp.get("/notifications/unread_count")
@responds(schemas.CountOut)
@responds(schemas.Error, 401)
async def unread_count() -> Response:
    viewer = await require_viewer()
    return jsonify({"count": await notifications.unread_count(services(), viewer.account_id)})
