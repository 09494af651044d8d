"""The Mastodon face's OpenAPI 3.1 document, `/api/mastodon/openapi.json`: every route of
the Mastodon blueprints with its scopes and the entity it answers, and the entities'
schemas made from the documented field lists (stgy/mastodon/entity_fields.py)."""

from __future__ import annotations

import re
from typing import Any

from quart import Blueprint, Quart, Response, current_app, jsonify

from stgy.domain.oauth_scopes import SUPPORTED_SCOPES
from stgy.http.context import config
from stgy.mastodon import entity_fields
from stgy.mastodon.entity_fields import Field

bp = Blueprint("mastodon_openapi", __name__)

EMPTY = "EMPTY"  # `{}`
ANY_LIST = "[]"  # a list stgy always answers empty (features it does not keep)
NONE = "NONE"  # no 200 answer: always an error (404 or 422), said in the summary
OBJECT = "OBJECT"  # a JSON object that is no Mastodon entity
EVENTS = "EVENTS"  # server-sent events (text/event-stream)
TEXT = "TEXT"  # text/plain
WEBSOCKET = "WEBSOCKET"  # 101: the WebSocket protocol of docs/mastodon-api.md

# What each endpoint answers with 200: an entity of entity_fields, "[NAME]" for a list of
# them, or one of the words above. A test checks that every Mastodon route is here.
ANSWERS: dict[str, str] = {
    "mastodon_oauth.metadata": OBJECT,
    "mastodon_oauth.token": "TOKEN",
    "mastodon_oauth.revoke": EMPTY,
    "mastodon_apps.create": "CREDENTIAL_APPLICATION",
    "mastodon_apps.verify_credentials": "APPLICATION",
    "mastodon_accounts.verify_credentials": "CREDENTIAL_ACCOUNT",
    "mastodon_accounts.preferences": "PREFERENCES",
    "mastodon_account_pages.show": "ACCOUNT",
    "mastodon_account_pages.lookup": "ACCOUNT",
    "mastodon_account_pages.account_search": "[ACCOUNT]",
    "mastodon_account_pages.account_statuses": "[STATUS]",
    "mastodon_account_pages.update_credentials": "CREDENTIAL_ACCOUNT",
    "mastodon_account_pages.bookmarks": "[STATUS]",
    "mastodon_account_pages.favourites": "[STATUS]",
    "mastodon_relationships.block": "RELATIONSHIP",
    "mastodon_relationships.unblock": "RELATIONSHIP",
    "mastodon_relationships.follow": "RELATIONSHIP",
    "mastodon_relationships.unfollow": "RELATIONSHIP",
    "mastodon_relationships.mute": "RELATIONSHIP",
    "mastodon_relationships.unmute": "RELATIONSHIP",
    "mastodon_relationships.authorize": "RELATIONSHIP",
    "mastodon_relationships.reject": "RELATIONSHIP",
    "mastodon_relationships.relationships": "[RELATIONSHIP]",
    "mastodon_relationships.followers": "[ACCOUNT]",
    "mastodon_relationships.following": "[ACCOUNT]",
    "mastodon_relationships.blocks": "[ACCOUNT]",
    "mastodon_relationships.mutes": "[ACCOUNT]",
    "mastodon_relationships.follow_requests": "[ACCOUNT]",
    "mastodon_discovery.familiar_followers": "[FAMILIAR_FOLLOWERS]",
    "mastodon_discovery.not_kept": ANY_LIST,
    "mastodon_discovery.account_not_kept": ANY_LIST,
    "mastodon_discovery.directory": ANY_LIST,
    "mastodon_conversations.index": "[CONVERSATION]",
    "mastodon_conversations.mark_read": "CONVERSATION",
    "mastodon_conversations.remove": EMPTY,
    "mastodon_empty.announcements": ANY_LIST,
    "mastodon_empty.custom_emojis": ANY_LIST,
    "mastodon_filters.index": "[FILTER]",
    "mastodon_filters.create": "FILTER",
    "mastodon_filters.show": "FILTER",
    "mastodon_filters.update": "FILTER",
    "mastodon_filters.delete": EMPTY,
    "mastodon_filters.keywords": "[FILTER_KEYWORD]",
    "mastodon_filters.add_keyword": "FILTER_KEYWORD",
    "mastodon_filters.show_keyword": "FILTER_KEYWORD",
    "mastodon_filters.update_keyword": "FILTER_KEYWORD",
    "mastodon_filters.delete_keyword": EMPTY,
    "mastodon_filters.statuses": "[FILTER_STATUS]",
    "mastodon_filters.add_status": "FILTER_STATUS",
    "mastodon_filters.show_status": "FILTER_STATUS",
    "mastodon_filters.delete_status": EMPTY,
    "mastodon_filters_v1.index": "[V1_FILTER]",
    "mastodon_filters_v1.create": "V1_FILTER",
    "mastodon_filters_v1.show": "V1_FILTER",
    "mastodon_filters_v1.update": "V1_FILTER",
    "mastodon_filters_v1.delete": EMPTY,
    "mastodon_lists.index": "[LIST]",
    "mastodon_lists.create": "LIST",
    "mastodon_lists.show": "LIST",
    "mastodon_lists.update": "LIST",
    "mastodon_lists.delete": EMPTY,
    "mastodon_lists.members": "[ACCOUNT]",
    "mastodon_lists.add_members": EMPTY,
    "mastodon_lists.remove_members": EMPTY,
    "mastodon_lists.account_lists": "[LIST]",
    "mastodon_empty.trends": ANY_LIST,
    "mastodon_empty.push_subscription": NONE,
    "mastodon_tags.show": "HASHTAG",
    "mastodon_tags.follow": "HASHTAG",
    "mastodon_tags.unfollow": "HASHTAG",
    "mastodon_tags.followed_tags": "[HASHTAG]",
    "mastodon_instance.instance_v1": "V1_INSTANCE",
    "mastodon_instance.instance_v2": "INSTANCE",
    "mastodon_instance_details.instance_rules": "[RULE]",
    "mastodon_instance_details.peers": ANY_LIST,
    "mastodon_instance_details.extended_description": "EXTENDED_DESCRIPTION",
    "mastodon_instance_details.blocked_domains": "[DOMAIN_BLOCK]",
    "mastodon_instance_details.activity": NONE,
    "mastodon_markers.get_markers": OBJECT,
    "mastodon_markers.set_markers": OBJECT,
    "mastodon_media.upload_v1": "MEDIA_ATTACHMENT",
    "mastodon_media.upload_v2": "MEDIA_ATTACHMENT",
    "mastodon_media.show": "MEDIA_ATTACHMENT",
    "mastodon_media.update": "MEDIA_ATTACHMENT",
    "mastodon_notifications.index": "[NOTIFICATION]",
    "mastodon_notifications.show": "NOTIFICATION",
    "mastodon_notifications.dismiss": EMPTY,
    "mastodon_notifications.clear": EMPTY,
    "mastodon_notifications_v2.index": "GROUPED_NOTIFICATIONS_RESULTS",
    "mastodon_notifications_v2.show": "GROUPED_NOTIFICATIONS_RESULTS",
    "mastodon_notifications_v2.group_accounts": "[ACCOUNT]",
    "mastodon_notifications_v2.dismiss": EMPTY,
    "mastodon_notifications_v2.unread_count_v1": "UNREAD_COUNT",
    "mastodon_notifications_v2.unread_count_v2": "UNREAD_COUNT",
    "mastodon_reports.create": "REPORT",
    "mastodon_search.search_v2": "SEARCH",
    "mastodon_statuses.create": "STATUS",
    "mastodon_statuses.show": "STATUS",
    "mastodon_statuses.delete": "STATUS",
    "mastodon_statuses.edit": "STATUS",
    "mastodon_statuses.bookmark": "STATUS",
    "mastodon_statuses.unbookmark": "STATUS",
    "mastodon_statuses.favourite": "STATUS",
    "mastodon_statuses.unfavourite": "STATUS",
    "mastodon_statuses.reblog": "STATUS",
    "mastodon_statuses.unreblog": "STATUS",
    "mastodon_statuses.context": "CONTEXT",
    "mastodon_statuses.source": "STATUS_SOURCE",
    "mastodon_statuses.history": "[STATUS_EDIT]",
    "mastodon_statuses.favourited_by": "[ACCOUNT]",
    "mastodon_statuses.reblogged_by": "[ACCOUNT]",
    "mastodon_timelines.home": "[STATUS]",
    "mastodon_timelines.public": "[STATUS]",
    "mastodon_timelines.tag": "[STATUS]",
    "mastodon_timelines.list_timeline": "[STATUS]",
    "mastodon_unsupported.scheduled_statuses": ANY_LIST,
    "mastodon_unsupported.domain_blocks": ANY_LIST,
    "mastodon_unsupported.change_domain_blocks": NONE,
    "mastodon_unsupported.pin": NONE,
    "mastodon_unsupported.mute_conversation": NONE,
    "mastodon_unsupported.translate": NONE,
    "mastodon_unsupported.account_note": NONE,
    "mastodon_unsupported.poll": NONE,
    "mastodon_unsupported.translation_languages": OBJECT,
    "mastodon_streaming.socket": WEBSOCKET,
    "mastodon_streaming.same_host": NONE,
    "mastodon_streaming.sse": EVENTS,
    "mastodon_streaming.health": TEXT,
}

_PARAMETER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")  # <converter:name> -> {name}

_SIMPLE: dict[str, dict[str, Any]] = {
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "list": {"type": "array"},
    "dict": {"type": "object"},
    "datetime": {"type": "string", "format": "date-time"},
    "date": {"type": "string", "format": "date"},
    "id": {"type": "string", "pattern": "^[0-9]+$"},
    "url": {"type": "string", "format": "uri"},
}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def field_schema(kind: str, nullable: bool) -> dict[str, Any]:
    if kind.startswith("["):
        schema: dict[str, Any] = {"type": "array", "items": _ref(kind[1:-1])}
    elif kind in _SIMPLE:
        schema = dict(_SIMPLE[kind])
    else:
        schema = _ref(kind)
    if not nullable:
        return schema
    if "type" in schema:
        return {**schema, "type": [schema["type"], "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def entity_schema(fields: list[Field]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {name: field_schema(kind, nullable) for name, kind, nullable, _ in fields},
        "required": [name for name, _, _, optional in fields if not optional],
    }


def _entities() -> dict[str, list[Field]]:
    return {
        name: value
        for name, value in vars(entity_fields).items()
        if name.isupper() and isinstance(value, list)
    }


def _answer_schema(answer: str) -> dict[str, Any] | None:
    if answer in (NONE, EVENTS, TEXT, WEBSOCKET):
        return None
    if answer == EMPTY:
        return {"type": "object", "maxProperties": 0}
    if answer == ANY_LIST:
        return {"type": "array"}
    if answer == OBJECT:
        return {"type": "object"}
    return field_schema(answer, nullable=False)


def _operation(app: Quart, endpoint: str, method: str, path: str) -> dict[str, Any]:
    view = app.view_functions[endpoint]
    short = endpoint.removeprefix("mastodon.")
    summary = (view.__doc__ or short).strip().splitlines()[0]
    responses: dict[str, Any] = {}
    answer = ANSWERS.get(short, NONE)
    body = _answer_schema(answer)
    if answer == EVENTS:
        responses["200"] = {
            "description": "Server-sent events: `event:` its kind, `data:` its payload",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        }
    elif answer == TEXT:
        responses["200"] = {
            "description": "OK",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    elif body is not None:
        responses["200"] = {
            "description": "OK",
            "content": {"application/json": {"schema": body}},
        }
    responses["4XX"] = {
        "description": "What was wrong, as Mastodon says it",
        "content": {"application/json": {"schema": _ref("ERROR")}},
    }
    operation: dict[str, Any] = {
        # Unique per path: one view may serve several paths.
        "operationId": f"{method.lower()} {path}",
        "summary": summary,
        "tags": [short.split(".")[0].removeprefix("mastodon_")],
        "responses": responses,
    }
    scopes = getattr(view, "mastodon_scopes", None)
    if scopes is not None:
        operation["security"] = [{"oauth2": [scope]} for scope in scopes] or [{"oauth2": []}]
    return operation


def document(app: Quart, base_url: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.endpoint.startswith("mastodon.") or rule.endpoint == _SELF:
            continue
        path = _PARAMETER.sub(r"{\1}", rule.rule)
        if rule.websocket:
            continue  # its upgrade is documented on the GET of the same path, below
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(
                app, rule.endpoint, method, path
            )
            parameters = [
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                for name in rule.arguments
            ]
            if parameters:
                paths[path][method.lower()]["parameters"] = parameters
    for rule in app.url_map.iter_rules():
        if rule.websocket and rule.endpoint.startswith("mastodon."):
            operation = paths[_PARAMETER.sub(r"{\1}", rule.rule)]["get"]
            operation["responses"]["101"] = {
                "description": "Switching to the WebSocket streaming protocol (with an"
                " Upgrade: websocket request; without one, this path answers 404)"
            }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "stgy: Mastodon client API",
            "version": "4.3.0",
            "description": "What stgy answers of Mastodon's client API; see docs/mastodon-api.md.",
        },
        "servers": [{"url": base_url}],
        "paths": paths,
        "components": {
            "schemas": {name: entity_schema(f) for name, f in sorted(_entities().items())},
            "securitySchemes": {
                "oauth2": {
                    "type": "oauth2",
                    "flows": {
                        "authorizationCode": {
                            "authorizationUrl": f"{base_url}/oauth/authorize",
                            "tokenUrl": f"{base_url}/oauth/token",
                            "scopes": {scope: scope for scope in SUPPORTED_SCOPES},
                        },
                        "clientCredentials": {
                            "tokenUrl": f"{base_url}/oauth/token",
                            "scopes": {scope: scope for scope in SUPPORTED_SCOPES},
                        },
                    },
                }
            },
        },
    }


_SELF = "mastodon.mastodon_openapi.openapi_json"
_MADE: dict[int, dict[str, Any]] = {}


@bp.get("/api/mastodon/openapi.json")
async def openapi_json() -> Response:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    made = _MADE.get(id(app))
    if made is None:
        made = _MADE[id(app)] = document(app, config().instance.base_url)
    return jsonify(made)
