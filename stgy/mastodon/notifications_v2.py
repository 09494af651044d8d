"""/api/v2/notifications: Mastodon 4.3's grouped notifications (GroupedNotificationsResults),
one group, its accounts, dismissing it; and the unread counts of v1 and v2."""

from __future__ import annotations

from typing import Any

import orjson
from quart import Blueprint, Response, jsonify

from stgy.domain import notification_groups, notifications
from stgy.domain.notification_groups import GroupedPage
from stgy.domain.notifications import NotificationView
from stgy.http.context import config, services
from stgy.mastodon.auth import current_viewer, scoped
from stgy.mastodon.entities import account_entity, mastodon_time
from stgy.mastodon.notifications import TYPE_OUT, _ours, warning_entity
from stgy.mastodon.pagination import link_header, page_request
from stgy.mastodon.params import list_param, read_params
from stgy.mastodon.status_entities import status_json
from stgy.mastodon.statuses import renderer

bp = Blueprint("mastodon_notifications_v2", __name__, url_prefix="/api")

MAX_KEY = 200


def results_json(page: GroupedPage) -> bytes:
    """A GroupedNotificationsResults: each account and status once, then the groups."""
    base_url = config().instance.base_url
    accounts = {i: account_entity(a, base_url, None) for i, a in page.accounts.items()}
    statuses: dict[int, bytes] = {}
    groups = []
    for group in page.groups:
        n = group.latest.notification
        entry: dict[str, Any] = {
            "group_key": group.key,
            "notifications_count": group.count,
            "type": TYPE_OUT.get(n.type, n.type),
            "most_recent_notification_id": str(group.most_recent_id),
            "page_min_id": str(group.page_min_id),
            "page_max_id": str(group.page_max_id),
            "latest_page_notification_at": mastodon_time(n.created_at),
            "sample_account_ids": [str(i) for i in group.sample_account_ids if i in accounts],
        }
        post = group.latest.post
        if post is not None:
            entry["status_id"] = str(post.id)
            statuses.setdefault(post.id, status_json(renderer(), post))
        if n.type == "moderation_warning":
            entry["moderation_warning"] = warning_entity(n, accounts[group.latest.account.id])
        groups.append(entry)
    return (
        b'{"accounts":'
        + orjson.dumps(list(accounts.values()))
        + b',"statuses":['
        + b",".join(statuses.values())
        + b'],"notification_groups":'
        + orjson.dumps(groups)
        + b"}"
    )


def _json(body: bytes) -> Response:
    return Response(body, mimetype="application/json")


def _group_key(value: str) -> str:
    # Keys are ours (migration 0033); anything longer is no key of ours: not found.
    return value[:MAX_KEY]


@bp.get("/v2/notifications", strict_slashes=False)
@scoped("read:notifications")
async def index() -> Response:
    params = await read_params()
    page = page_request(params, default=40, maximum=80)
    types = list_param(params, "types")
    excluded = list_param(params, "exclude_types")
    grouped_types = list_param(params, "grouped_types")
    ungrouped = None
    if "grouped_types" in params:
        ungrouped = frozenset(TYPE_OUT) - frozenset(_ours(grouped_types))
    viewer = current_viewer().account_id
    views: list[NotificationView] = []
    if not types or _ours(types):
        views = await notifications.list_notifications(
            services(),
            viewer,
            types=_ours(types) or None,
            exclude_types=_ours(excluded) or None,
            since=page.since_id if page.since_id is not None else page.min_id,
            until=page.max_id,
            limit=page.limit,
        )
    grouped = await notification_groups.grouped(services(), viewer, views, ungrouped)
    response = _json(results_json(grouped))
    link = link_header(page, grouped.notification_ids)
    if link is not None:
        response.headers["Link"] = link
    return response


async def _unread(grouped: bool) -> Response:
    """How many notifications (or groups) came after the notifications marker: `limit`
    (default 100, at most 1000) caps the count, as Mastodon's does."""
    params = await read_params()
    limit = page_request(params, default=100, maximum=1000).limit
    types = list_param(params, "types")
    if types and not _ours(types):
        return jsonify({"count": 0})
    count = await notification_groups.unread_count(
        services(),
        current_viewer().account_id,
        types=_ours(types) or None,
        exclude_types=_ours(list_param(params, "exclude_types")) or None,
        grouped=grouped,
        cap=limit,
    )
    return jsonify({"count": count})


@bp.get("/v1/notifications/unread_count", strict_slashes=False)
@scoped("read:notifications")
async def unread_count_v1() -> Response:
    return await _unread(grouped=False)


@bp.get("/v2/notifications/unread_count", strict_slashes=False)
@scoped("read:notifications")
async def unread_count_v2() -> Response:
    return await _unread(grouped=True)


@bp.get("/v2/notifications/<group_key>", strict_slashes=False)
@scoped("read:notifications")
async def show(group_key: str) -> Response:
    found = await notification_groups.group(
        services(), current_viewer().account_id, _group_key(group_key)
    )
    return _json(results_json(found))


@bp.get("/v2/notifications/<group_key>/accounts", strict_slashes=False)
@scoped("read:notifications")
async def group_accounts(group_key: str) -> Response:
    found = await notification_groups.group_accounts(
        services(), current_viewer().account_id, _group_key(group_key)
    )
    base_url = config().instance.base_url
    return jsonify([account_entity(a, base_url, None) for a in found])


@bp.post("/v2/notifications/<group_key>/dismiss", strict_slashes=False)
@scoped("write:notifications")
async def dismiss(group_key: str) -> Response:
    await notification_groups.dismiss(
        services(), current_viewer().account_id, _group_key(group_key)
    )
    return jsonify({})
