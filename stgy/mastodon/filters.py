"""/api/v2/filters: a person's filters, their keywords and filtered statuses (Mastodon 4)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from quart import Blueprint, Response, jsonify, request

from stgy.domain import filters
from stgy.domain.errors import Invalid, NotFound
from stgy.domain.filters import KeywordChange, Rules
from stgy.http.context import services
from stgy.mastodon.auth import current_viewer, scoped
from stgy.mastodon.filter_entities import filter_entity, filter_status_entity, keyword_entity
from stgy.mastodon.params import (
    MAX_VALUES,
    bool_param,
    id_param,
    list_param,
    read_params,
    text_param,
)

bp = Blueprint("mastodon_filters", __name__, url_prefix="/api/v2/filters")

# `keywords_attributes[][keyword]` (Rails' array of hashes) or `...[0][keyword]`.
_ATTRIBUTE = re.compile(r"keywords_attributes\[(\d{0,6})\]\[(\w{1,20})\]")


def expires_in_param(params: dict[str, Any], *, updating: bool) -> int | None:
    """Seconds until the filter ends; 0 for never. Absent: never for a new filter,
    unchanged for an update; empty or null: never."""
    if "expires_in" not in params:
        return None if updating else 0
    given = params["expires_in"]
    if given is None or given == "":
        return 0
    text = text_param(params, "expires_in")
    if text is None or not text.isascii() or not text.isdigit() or len(text) > 12:
        raise Invalid("expires_in", "must be a number of seconds")
    return int(text)


async def _ordered_pairs() -> list[tuple[str, str]]:
    """The query's and form's parameters in the order sent: Rails groups
    `keywords_attributes[][...]` into hashes by that order."""
    pairs = parse_qsl(request.query_string.decode("utf-8", "replace"), keep_blank_values=True)
    if request.method not in ("GET", "HEAD"):
        if request.mimetype == "application/x-www-form-urlencoded":
            body = await request.get_data(True, True, False)  # cached, as text, not parsed
            pairs += parse_qsl(body, keep_blank_values=True)
        elif request.mimetype == "multipart/form-data":
            # A parsed multipart form keeps each name's values in order, not the order
            # between names: its n-th values are taken as sent together.
            form = await request.form
            lists = [(key, form.getlist(key)) for key in form]
            longest = max((len(values) for _, values in lists), default=0)
            pairs += [(k, v[i]) for i in range(longest) for k, v in lists if i < len(v)]
    return pairs


def _form_items(pairs: list[tuple[str, str]]) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = []
    indexed: dict[int, dict[str, Any]] = {}
    for key, value in pairs:
        found = _ATTRIBUTE.fullmatch(key)
        if found is None:
            continue
        index, name = found.groups()
        if index:
            indexed.setdefault(int(index), {})[name] = value
        else:
            if not listed or name in listed[-1]:
                listed.append({})
            listed[-1][name] = value
        if len(listed) + len(indexed) > MAX_VALUES:
            raise Invalid("keywords_attributes", f"at most {MAX_VALUES} keywords at once")
    return listed + [indexed[i] for i in sorted(indexed)]


async def keyword_changes(params: dict[str, Any]) -> list[KeywordChange]:
    """`keywords_attributes` from a JSON body (a list, or a hash by index) or a form."""
    given = params.get("keywords_attributes")
    if isinstance(given, list):
        items = given
    elif isinstance(given, dict):
        items = [given[k] for k in sorted(given, key=lambda k: (len(k), k))]
    else:
        items = _form_items(await _ordered_pairs())
    if len(items) > MAX_VALUES:
        raise Invalid("keywords_attributes", f"at most {MAX_VALUES} keywords at once")
    changes = []
    for item in items:
        if not isinstance(item, dict):
            raise Invalid("keywords_attributes", "must be a list of keywords")
        given_id = text_param(item, "id")
        changes.append(
            KeywordChange(
                id=id_param(given_id, "id") if given_id else None,
                keyword=text_param(item, "keyword"),
                whole_word=bool_param(item, "whole_word"),
                destroy=bool(bool_param(item, "_destroy", False)),
            )
        )
    return changes


def rules_of(params: dict[str, Any], *, updating: bool) -> Rules:
    context = list_param(params, "context") if "context" in params else None
    return Rules(
        title=text_param(params, "title") if "title" in params or not updating else None,
        context=context if context is not None or updating else [],
        action=text_param(params, "filter_action"),
        expires_in=expires_in_param(params, updating=updating),
    )


def _done() -> Response:
    return jsonify({})


@bp.get("", strict_slashes=False)
@scoped("read:filters")
async def index() -> Response:
    found = await filters.list_filters(services(), current_viewer().account_id)
    return jsonify([filter_entity(f) for f in found])


@bp.post("", strict_slashes=False)
@scoped("write:filters")
async def create() -> Response:
    params = await read_params()
    made = await filters.create_filter(
        services(),
        current_viewer().account_id,
        rules_of(params, updating=False),
        await keyword_changes(params),
    )
    return jsonify(filter_entity(made))


@bp.get("/<filter_id>", strict_slashes=False)
@scoped("read:filters")
async def show(filter_id: str) -> Response:
    found = await filters.get_filter(
        services(), current_viewer().account_id, id_param(filter_id, "id")
    )
    return jsonify(filter_entity(found))


@bp.put("/<filter_id>", strict_slashes=False)
@scoped("write:filters")
async def update(filter_id: str) -> Response:
    params = await read_params()
    changed = await filters.update_filter(
        services(),
        current_viewer().account_id,
        id_param(filter_id, "id"),
        rules_of(params, updating=True),
        await keyword_changes(params),
    )
    return jsonify(filter_entity(changed))


@bp.delete("/<filter_id>", strict_slashes=False)
@scoped("write:filters")
async def delete(filter_id: str) -> Response:
    await filters.delete_filter(services(), current_viewer().account_id, id_param(filter_id, "id"))
    return _done()


# ---- keywords


@bp.get("/<filter_id>/keywords", strict_slashes=False)
@scoped("read:filters")
async def keywords(filter_id: str) -> Response:
    found = await filters.get_filter(
        services(), current_viewer().account_id, id_param(filter_id, "id")
    )
    return jsonify([keyword_entity(k) for k in found.keywords])


@bp.post("/<filter_id>/keywords", strict_slashes=False)
@scoped("write:filters")
async def add_keyword(filter_id: str) -> Response:
    params = await read_params()
    made = await filters.add_keyword(
        services(),
        current_viewer().account_id,
        id_param(filter_id, "id"),
        text_param(params, "keyword"),
        bool(bool_param(params, "whole_word", True)),
    )
    return jsonify(keyword_entity(made))


@bp.get("/keywords/<keyword_id>", strict_slashes=False)
@scoped("read:filters")
async def show_keyword(keyword_id: str) -> Response:
    found = await filters.get_keyword(
        services(), current_viewer().account_id, id_param(keyword_id, "id")
    )
    return jsonify(keyword_entity(found))


@bp.put("/keywords/<keyword_id>", strict_slashes=False)
@scoped("write:filters")
async def update_keyword(keyword_id: str) -> Response:
    params = await read_params()
    changed = await filters.update_keyword(
        services(),
        current_viewer().account_id,
        id_param(keyword_id, "id"),
        text_param(params, "keyword"),
        bool_param(params, "whole_word"),
    )
    return jsonify(keyword_entity(changed))


@bp.delete("/keywords/<keyword_id>", strict_slashes=False)
@scoped("write:filters")
async def delete_keyword(keyword_id: str) -> Response:
    await filters.delete_keyword(
        services(), current_viewer().account_id, id_param(keyword_id, "id")
    )
    return _done()


# ---- statuses


@bp.get("/<filter_id>/statuses", strict_slashes=False)
@scoped("read:filters")
async def statuses(filter_id: str) -> Response:
    found = await filters.get_filter(
        services(), current_viewer().account_id, id_param(filter_id, "id")
    )
    return jsonify([filter_status_entity(p) for p in found.posts])


@bp.post("/<filter_id>/statuses", strict_slashes=False)
@scoped("write:filters")
async def add_status(filter_id: str) -> Response:
    params = await read_params()
    given = text_param(params, "status_id")
    if not given:
        raise Invalid("status_id", "can't be blank")
    try:
        post_id = id_param(given, "status_id")
    except NotFound:
        raise Invalid("status_id", "must be a status id") from None
    made = await filters.add_post(
        services(), current_viewer().account_id, id_param(filter_id, "id"), post_id
    )
    return jsonify(filter_status_entity(made))


@bp.get("/statuses/<filter_status_id>", strict_slashes=False)
@scoped("read:filters")
async def show_status(filter_status_id: str) -> Response:
    found = await filters.get_post(
        services(), current_viewer().account_id, id_param(filter_status_id, "id")
    )
    return jsonify(filter_status_entity(found))


@bp.delete("/statuses/<filter_status_id>", strict_slashes=False)
@scoped("write:filters")
async def delete_status(filter_status_id: str) -> Response:
    await filters.delete_post(
        services(), current_viewer().account_id, id_param(filter_status_id, "id")
    )
    return _done()
