"""/api/v1/filters: the deprecated filters API, still used by apps; each keyword of a
filter shows as a filter of its own (by the keyword's id), as Mastodon maps them."""

from __future__ import annotations

from quart import Blueprint, Response, jsonify

from stgy.domain import filters
from stgy.domain.errors import Invalid
from stgy.domain.filters import KeywordChange, Rules
from stgy.http.context import services
from stgy.mastodon.auth import current_viewer, scoped
from stgy.mastodon.filter_entities import v1_filter_entity
from stgy.mastodon.filters import expires_in_param
from stgy.mastodon.params import bool_param, id_param, list_param, read_params, text_param

bp = Blueprint("mastodon_filters_v1", __name__, url_prefix="/api/v1/filters")


@bp.get("", strict_slashes=False)
@scoped("read:filters")
async def index() -> Response:
    found = await filters.list_filters(services(), current_viewer().account_id)
    return jsonify([v1_filter_entity(f, k) for f in found for k in f.keywords])


@bp.post("", strict_slashes=False)
@scoped("write:filters")
async def create() -> Response:
    params = await read_params()
    phrase = text_param(params, "phrase")
    rules = Rules(
        # A phrase may be longer than a title: the filter is titled by its start.
        title=(phrase or "")[: filters.MAX_TITLE],
        context=list_param(params, "context"),
        action="hide" if bool_param(params, "irreversible", False) else "warn",
        expires_in=expires_in_param(params, updating=False),
    )
    whole_word = bool(bool_param(params, "whole_word", True))
    made = await filters.create_filter(
        services(),
        current_viewer().account_id,
        rules,
        [KeywordChange(None, phrase, whole_word)],
    )
    return jsonify(v1_filter_entity(made, made.keywords[0]))


@bp.get("/<keyword_id>", strict_slashes=False)
@scoped("read:filters")
async def show(keyword_id: str) -> Response:
    found, keyword = await filters.keyword_filter(
        services(), current_viewer().account_id, id_param(keyword_id, "id")
    )
    return jsonify(v1_filter_entity(found, keyword))


@bp.put("/<keyword_id>", strict_slashes=False)
@scoped("write:filters")
async def update(keyword_id: str) -> Response:
    params = await read_params()
    account_id = current_viewer().account_id
    found, keyword = await filters.keyword_filter(
        services(), account_id, id_param(keyword_id, "id")
    )
    shared = ("context", "irreversible", "expires_in")
    if len(found.keywords) > 1 and any(name in params for name in shared):
        # They would change the other keywords' filter too (as Mastodon refuses it).
        raise Invalid(
            "filter",
            "has more than one keyword: change its context, action and expiry with the v2 API",
        )
    phrase = text_param(params, "phrase")
    irreversible = bool_param(params, "irreversible")
    rules = Rules(
        title=phrase[: filters.MAX_TITLE] if phrase and len(found.keywords) == 1 else None,
        context=list_param(params, "context") if "context" in params else None,
        action=None if irreversible is None else "hide" if irreversible else "warn",
        expires_in=expires_in_param(params, updating=True),
    )
    change = KeywordChange(keyword.id, phrase, bool_param(params, "whole_word"))
    changed = await filters.update_filter(services(), account_id, found.id, rules, [change])
    now = next(k for k in changed.keywords if k.id == keyword.id)
    return jsonify(v1_filter_entity(changed, now))


@bp.delete("/<keyword_id>", strict_slashes=False)
@scoped("write:filters")
async def delete(keyword_id: str) -> Response:
    await filters.delete_keyword_filter(
        services(), current_viewer().account_id, id_param(keyword_id, "id")
    )
    return jsonify({})
