"""Accounts as Mastodon apps read and change them: lookup, one account, its statuses,
search, update_credentials; and the person's bookmarks."""

from __future__ import annotations

import re
from typing import Any

from quart import Blueprint, Response, jsonify, request
from werkzeug.datastructures import FileStorage

from stgy.domain import accounts, interactions, post_reads, search
from stgy.domain.errors import Invalid
from stgy.domain.media import uploads
from stgy.domain.own_account import own_account
from stgy.domain.text import normalise_tag
from stgy.http.context import client_ip, config, services
from stgy.mastodon.auth import current_viewer, scoped
from stgy.mastodon.entities import account_entity, credential_account_entity
from stgy.mastodon.filtered import filter_page, marked_anywhere, viewer_matcher
from stgy.mastodon.pagination import link_header, page_request, paginated_json
from stgy.mastodon.params import bool_param, id_param, read_params, text_param
from stgy.mastodon.status_entities import statuses_json
from stgy.mastodon.statuses import _reader, renderer
from storage.account_posts import AccountPostFilter

bp = Blueprint("mastodon_account_pages", __name__, url_prefix="/api/v1")

_FIELD_KEY = re.compile(r"^fields_attributes\[(\d+)\]\[(name|value)\]$")


def _account(account: Any) -> dict[str, Any]:
    return account_entity(account, config().instance.base_url, None)


@bp.get("/accounts/lookup", strict_slashes=False)
async def lookup() -> Response:
    acct = text_param(await read_params(), "acct")
    if not acct:
        raise Invalid("acct", "can't be blank")
    return jsonify(_account(await accounts.find_account(services(), acct.removeprefix("@"))))


@bp.get("/accounts/search", strict_slashes=False)
@scoped("read:accounts")
async def account_search() -> Response:
    params = await read_params()
    page = page_request(params, default=40, maximum=80)
    found = await search.search(
        services(),
        text_param(params, "q"),
        kind="accounts",
        viewer_id=current_viewer().account_id,
        limit=page.limit,
        client=client_ip(),
        resolve=bool(bool_param(params, "resolve", False)),
    )
    return jsonify([_account(a) for a in found.accounts])


@bp.get("/accounts/<account_id>", strict_slashes=False)
async def show(account_id: str) -> Response:
    return jsonify(_account(await accounts.get_account(services(), id_param(account_id, "id"))))


def _account_filter(params: dict[str, Any]) -> AccountPostFilter:
    tagged = text_param(params, "tagged")
    name = normalise_tag(tagged.removeprefix("#")) if tagged else None
    if tagged and name is None:
        raise Invalid("tagged", "is not a valid tag")
    return AccountPostFilter(
        exclude_replies=bool(bool_param(params, "exclude_replies", False)),
        exclude_reblogs=bool(bool_param(params, "exclude_reblogs", False)),
        only_media=bool(bool_param(params, "only_media", False)),
        tagged=name,
    )


@bp.get("/accounts/<account_id>/statuses", strict_slashes=False)
async def account_statuses(account_id: str) -> Response:
    params = await read_params()
    page = page_request(params)
    shown = _account_filter(params)
    # stgy has no pinned posts yet: the pinned list is empty (LIMIT 0), and still 404
    # for an unknown account.
    pinned = bool(bool_param(params, "pinned", False))
    views = await post_reads.account_posts(
        services(),
        id_param(account_id, "id"),
        await _reader(),
        since=page.since,
        until=page.until,
        limit=0 if pinned else page.limit,
        shown=shown,
        ascending=page.ascending,
    )
    body = filter_page(statuses_json(renderer(), views), await viewer_matcher("account"))
    return paginated_json(body, page, [v.id for v in views])


@bp.get("/bookmarks", strict_slashes=False)
@scoped("read:bookmarks")
async def bookmarks() -> Response:
    page = page_request(await read_params())
    found = await interactions.bookmarks(
        services(),
        current_viewer().account_id,
        since=page.since,
        until=page.until,
        limit=page.limit,
        ascending=page.ascending,
    )
    body = filter_page(statuses_json(renderer(), found.posts), await marked_anywhere(), hide=False)
    response = Response(body, mimetype="application/json")
    # Pages of bookmarks go by the bookmarks' own ids.
    marks: list[int] = []
    if found.newest is not None and found.oldest is not None:
        marks = [found.newest] + [found.oldest] * (len(found.posts) - 1)
    link = link_header(page, marks)
    if link is not None:
        response.headers["Link"] = link
    return response


@bp.get("/favourites", strict_slashes=False)
@scoped("read:favourites")
async def favourites() -> Response:
    """Liked statuses, newest status first (not newest like: likes have no id of their
    own to page on)."""
    page = page_request(await read_params())
    views = await interactions.liked_posts(
        services(),
        current_viewer().account_id,
        since=page.since,
        until=page.until,
        limit=page.limit,
        ascending=page.ascending,
    )
    body = filter_page(statuses_json(renderer(), views), await marked_anywhere(), hide=False)
    return paginated_json(body, page, [v.id for v in views])


def _fields(params: dict[str, Any]) -> list[dict[str, str]] | None:
    """fields_attributes as Rails sends it (`[0][name]=...`), as a hash or a JSON list."""
    rows: dict[int, dict[str, str]] = {}
    for key, value in params.items():
        matched = _FIELD_KEY.match(key)
        if matched and isinstance(value, str):
            rows.setdefault(int(matched.group(1)), {})[matched.group(2)] = value
    given = params.get("fields_attributes")
    items: list[Any] = []
    if isinstance(given, dict):
        items = [given[k] for k in sorted(given, key=lambda k: (len(k), k))]
    elif isinstance(given, list):
        items = given
    for i, item in enumerate(items):
        if isinstance(item, dict):
            rows[i] = {k: str(item.get(k, "")) for k in ("name", "value")}
    if not rows:
        return None
    found = [
        {"name": row.get("name", "").strip(), "value": row.get("value", "")}
        for _, row in sorted(rows.items())
    ]
    return [row for row in found if row["name"] or row["value"].strip()]


async def _image_id(part: FileStorage | None, which: str) -> str | None:
    if part is None or not part.filename:
        return None
    svc = services()
    data = part.read(svc.config.limits.media_bytes + 1)
    if not data:
        return None
    try:
        media = await uploads.upload(
            svc,
            current_viewer().account_id,
            uploads.Upload(data=data, declared_type=part.mimetype or None, purpose=which),
        )
    except Invalid as exc:
        raise Invalid(which, exc.reason) from None
    if media.state != "ready":
        raise Invalid(which, "is too large to be processed at once; upload a smaller image")
    return str(media.id)


@bp.patch("/accounts/update_credentials", strict_slashes=False)
@scoped("write:accounts")
async def update_credentials() -> Response:
    params = await read_params()
    changes: dict[str, Any] = {}
    if (name := text_param(params, "display_name")) is not None:
        changes["display_name"] = name
    if (note := text_param(params, "note")) is not None:
        changes["bio"] = note
    for flag in ("locked", "bot"):
        value = bool_param(params, flag)
        if value is not None:
            changes[flag] = value
    if (fields := _fields(params)) is not None:
        changes["fields"] = fields
    if request.mimetype == "multipart/form-data":
        files = await request.files
        for which in ("avatar", "header"):
            media_id = await _image_id(files.get(which), which)
            if media_id is not None:
                changes[f"{which}_media_id"] = media_id
    viewer = current_viewer()
    await accounts.update_profile(services(), viewer.account_id, changes)
    own = await own_account(
        services(), viewer.account_id, role=viewer.role, language=viewer.language
    )
    return jsonify(credential_account_entity(own, config().instance.base_url))
