"""/api/v1/notifications: the person's notifications as Mastodon's Notification entity."""

from __future__ import annotations

from typing import Any

import orjson
from quart import Blueprint, Response, jsonify

from stgy.domain import notifications
from stgy.domain.filter_matching import Matcher
from stgy.domain.notifications import NotificationView
from stgy.http.context import config, services
from stgy.mastodon.auth import current_viewer, scoped
from stgy.mastodon.entities import account_entity, mastodon_time
from stgy.mastodon.errors import RecordNotFound
from stgy.mastodon.filtered import filter_status, viewer_matcher
from stgy.mastodon.pagination import link_header, page_request
from stgy.mastodon.params import id_param, list_param, read_params
from stgy.mastodon.status_entities import status_json
from stgy.mastodon.statuses import renderer
from storage.notifications import Notification

bp = Blueprint("mastodon_notifications", __name__, url_prefix="/api/v1/notifications")

# Our kinds as Mastodon's types; a reply is a mention to Mastodon.
TYPE_OUT = {
    "mention": "mention",
    "reply": "mention",
    "share": "reblog",
    "like": "favourite",
    "follow": "follow",
    "follow_request": "follow_request",
    "moderation_warning": "moderation_warning",
}
TYPE_IN: dict[str, list[str]] = {}
for ours, theirs in TYPE_OUT.items():
    TYPE_IN.setdefault(theirs, []).append(ours)


def _ours(types: list[str]) -> list[str]:
    """Mastodon's types as ours; types we never make (poll, update, ...) match nothing."""
    return [kind for given in types for kind in TYPE_IN.get(given, [])]


def warning_entity(n: Notification, account: dict[str, Any]) -> dict[str, Any]:
    """Mastodon's AccountWarning: a warning alone (no other action, no posts, no appeal)."""
    return {
        "id": str(n.id),
        "action": "none",
        "text": n.text or "",
        "status_ids": [],
        "target_account": account,
        "appeal": None,
        "created_at": mastodon_time(n.created_at),
    }


def notification_json(view: NotificationView, status: bytes | None = None) -> bytes:
    """The Notification (with `status`, the JSON of its status, when given)."""
    n = view.notification
    kind = TYPE_OUT.get(n.type, n.type)
    head: dict[str, Any] = {
        "id": str(n.id),
        "type": kind,
        "group_key": n.group_key or f"ungrouped-{n.id}",
        "created_at": mastodon_time(n.created_at),
        "account": account_entity(view.account, config().instance.base_url, None),
    }
    if n.type == "moderation_warning":
        head["moderation_warning"] = warning_entity(n, head["account"])
    if status is None:
        status = b"null" if view.post is None else status_json(renderer(), view.post)
    return orjson.dumps(head)[:-1] + b',"status":' + status + b"}"


def filtered_notification_json(view: NotificationView, matcher: Matcher | None) -> bytes | None:
    """The Notification with the viewer's filters applied to its status; None when a
    `hide` filter matches it (the notification is left out, as Mastodon does)."""
    if view.post is None or matcher is None:
        return notification_json(view)
    status = filter_status(status_json(renderer(), view.post), matcher)
    return None if status is None else notification_json(view, status)


@bp.get("", strict_slashes=False)
@scoped("read:notifications")
async def index() -> Response:
    params = await read_params()
    page = page_request(params, default=40, maximum=80)
    types = list_param(params, "types")
    excluded = list_param(params, "exclude_types")
    if types and not _ours(types):
        views: list[NotificationView] = []
    else:
        views = await notifications.list_notifications(
            services(),
            current_viewer().account_id,
            types=_ours(types) or None,
            exclude_types=_ours(excluded) or None,
            since=page.since,
            until=page.until,
            limit=page.limit,
            ascending=page.ascending,
        )
    matcher = await viewer_matcher("notifications")
    made = [filtered_notification_json(v, matcher) for v in views]
    body = b"[" + b",".join(n for n in made if n is not None) + b"]"
    response = Response(body, mimetype="application/json")
    link = link_header(page, [v.notification.id for v in views])
    if link is not None:
        response.headers["Link"] = link
    return response


@bp.get("/<notification_id>", strict_slashes=False)
@scoped("read:notifications")
async def show(notification_id: str) -> Response:
    wanted = id_param(notification_id, "id")
    found = await notifications.list_notifications(
        services(), current_viewer().account_id, since=wanted - 1, until=wanted + 1, limit=1
    )
    if not found:
        raise RecordNotFound()
    made = filtered_notification_json(found[0], await viewer_matcher("notifications"))
    if made is None:
        raise RecordNotFound()
    return Response(made, mimetype="application/json")


@bp.post("/clear", strict_slashes=False)
@scoped("write:notifications")
async def clear() -> Response:
    await notifications.clear(services(), current_viewer().account_id)
    return jsonify({})


@bp.post("/<notification_id>/dismiss", strict_slashes=False)
@scoped("write:notifications")
async def dismiss(notification_id: str) -> Response:
    await notifications.dismiss(
        services(), current_viewer().account_id, id_param(notification_id, "id")
    )
    return jsonify({})
