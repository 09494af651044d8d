"""/api/v1/statuses: write, read, edit and delete statuses, their source, history and
context, and favourite, reblog and bookmark them; over the native API's domain calls."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlencode

import orjson
from quart import Blueprint, Response, request

from stgy.domain import interactions, post_history, post_reads, posts
from stgy.domain.errors import Invalid
from stgy.domain.mail.email_confirmation import check_can_post
from stgy.domain.remote import context_fetch
from stgy.domain.renderings import PageRenderer
from stgy.http.context import config, services
from stgy.mastodon.auth import current_viewer, maybe_holder, scoped
from stgy.mastodon.entities import account_entity, mastodon_time
from stgy.mastodon.filtered import filter_page, mark_status, marked_anywhere, viewer_matcher
from stgy.mastodon.pagination import page_request
from stgy.mastodon.params import bool_param, id_param, list_param, read_params, text_param
from stgy.mastodon.status_entities import (
    VISIBILITY_IN,
    media_attachment_entity,
    status_json,
    status_renderer,
    statuses_json,
)
from storage.posts import PostView

bp = Blueprint("mastodon_statuses", __name__, url_prefix="/api/v1/statuses")


def renderer() -> PageRenderer:
    cfg = config()
    return status_renderer(cfg.instance.base_url, cfg.media.small_size)


def json_bytes(body: bytes) -> Response:
    return Response(body, mimetype="application/json")


async def status_response(view: PostView) -> Response:
    """One Status, with `filtered` as outside the timelines (marked_anywhere)."""
    return json_bytes(mark_status(status_json(renderer(), view), await marked_anywhere()))


def _idempotency_key(session_id: int) -> str | None:
    """The client's Idempotency-Key, bound to its token: the same key from another token
    (or another app of the same person) makes another status."""
    given = request.headers.get("Idempotency-Key")
    if given is None:
        return None
    posts.check_idempotency_key(given)
    digest = hashlib.sha256(given.encode()).hexdigest()
    return f"mastodon:{session_id}:{digest}"


def _visibility(params: dict[str, Any]) -> str:
    given = text_param(params, "visibility")
    if given is None or given == "":
        return "public"
    found = VISIBILITY_IN.get(given)
    if found is None:
        raise Invalid("visibility", "is not included in the list")
    return found


def _reply_to(params: dict[str, Any]) -> int | None:
    given = text_param(params, "in_reply_to_id")
    if not given:
        return None
    if not given.isascii() or not given.isdigit() or len(given) > 19 or int(given) >= 2**63:
        raise Invalid("in_reply_to_id", "must be an id")
    return int(given)


@bp.post("", strict_slashes=False)
@scoped("write:statuses")
async def create() -> Response:
    viewer = current_viewer()
    check_can_post(services().config, viewer)
    params = await read_params()
    if params.get("poll") is not None:
        raise Invalid("poll", "is not supported")
    if params.get("scheduled_at"):
        raise Invalid("scheduled_at", "is not supported (no scheduled statuses yet)")
    draft = posts.PostDraft(
        text=text_param(params, "status") or "",
        reply_to_id=_reply_to(params),
        visibility=_visibility(params),
        summary=text_param(params, "spoiler_text") or "",
        sensitive=bool_param(params, "sensitive", False) or False,
        media_ids=list_param(params, "media_ids"),
        language=text_param(params, "language") or None,
    )
    created = await posts.create_post(
        services(), viewer.account_id, draft, _idempotency_key(viewer.session_id)
    )
    return await status_response(created.view)


@bp.get("/<status_id>", strict_slashes=False)
async def show(status_id: str) -> Response:
    thread = await post_reads.get_thread(services(), id_param(status_id, "id"), await _reader())
    return await status_response(thread.post)


async def _reader() -> int | None:
    """The person behind the token, if any: reading a public status needs no token."""
    holder = await maybe_holder()
    if holder is not None and holder.viewer is not None:
        return holder.viewer.account_id
    return None


@bp.delete("/<status_id>", strict_slashes=False)
@scoped("write:statuses")
async def delete(status_id: str) -> Response:
    view = await posts.delete_post(
        services(), current_viewer().account_id, id_param(status_id, "id")
    )
    return await status_response(view)


@bp.put("/<status_id>", strict_slashes=False)
@scoped("write:statuses")
async def edit(status_id: str) -> Response:
    params = await read_params()
    if params.get("poll") is not None:
        raise Invalid("poll", "is not supported")
    language = text_param(params, "language")
    media = list_param(params, "media_ids") if "media_ids" in params else None
    changes = posts.PostChanges(
        text=text_param(params, "status"),
        summary=text_param(params, "spoiler_text"),
        sensitive=bool_param(params, "sensitive"),
        language=language or None,
        clear_language=language == "",
        media_ids=media,
    )
    view = await posts.edit_post(
        services(), current_viewer().account_id, id_param(status_id, "id"), changes
    )
    return await status_response(view)


@bp.get("/<status_id>/source", strict_slashes=False)
@scoped("read:statuses")
async def source(status_id: str) -> Response:
    view = await posts.editable_post(
        services(), current_viewer().account_id, id_param(status_id, "id")
    )
    return _json({"id": str(view.id), "text": view.source, "spoiler_text": view.summary})


def _json(value: Any) -> Response:
    return json_bytes(orjson.dumps(value))


@bp.get("/<status_id>/history", strict_slashes=False)
async def history(status_id: str) -> Response:
    found = await post_history.history(services(), id_param(status_id, "id"), await _reader())
    cfg = config()
    post = found.post
    account = account_entity(post.account, cfg.instance.base_url, None)
    media = [media_attachment_entity(m, cfg.media.small_size) for m in post.media]
    # Mastodon lists the versions oldest first; attachments are not versioned here.
    edits = [
        {
            "content": version.html,
            "spoiler_text": version.summary,
            "sensitive": post.sensitive or bool(version.summary),
            "created_at": mastodon_time(version.written_at),
            "account": account,
            "poll": None,
            "media_attachments": media,
            "emojis": [],
        }
        for version in reversed(found.versions)
    ]
    return _json(edits)


@bp.get("/<status_id>/context", strict_slashes=False)
async def context(status_id: str) -> Response:
    found = await context_fetch.get_context(services(), id_param(status_id, "id"), await _reader())
    made, matcher = renderer(), await viewer_matcher("thread")
    return json_bytes(
        b'{"ancestors":'
        + filter_page(statuses_json(made, found.ancestors), matcher)
        + b',"descendants":'
        + filter_page(statuses_json(made, found.descendants), matcher)
        + b"}"
    )


async def _act(action: Any, status_id: str) -> Response:
    view = await action(services(), current_viewer().account_id, id_param(status_id, "id"))
    return await status_response(view)


@bp.post("/<status_id>/favourite", strict_slashes=False)
@scoped("write:favourites")
async def favourite(status_id: str) -> Response:
    return await _act(interactions.like, status_id)


@bp.post("/<status_id>/unfavourite", strict_slashes=False)
@scoped("write:favourites")
async def unfavourite(status_id: str) -> Response:
    return await _act(interactions.unlike, status_id)


@bp.post("/<status_id>/reblog", strict_slashes=False)
@scoped("write:statuses")
async def reblog(status_id: str) -> Response:
    viewer = current_viewer()
    check_can_post(services().config, viewer)
    original = await interactions.share(services(), viewer.account_id, id_param(status_id, "id"))
    # Mastodon answers the reblog itself: the viewer's share, with the status in it.
    wrapper = await interactions.own_share(services(), viewer.account_id, original.id)
    return await status_response(wrapper or original)


@bp.post("/<status_id>/unreblog", strict_slashes=False)
@scoped("write:statuses")
async def unreblog(status_id: str) -> Response:
    return await _act(interactions.unshare, status_id)


@bp.post("/<status_id>/bookmark", strict_slashes=False)
@scoped("write:bookmarks")
async def bookmark(status_id: str) -> Response:
    return await _act(interactions.bookmark, status_id)


@bp.post("/<status_id>/unbookmark", strict_slashes=False)
@scoped("write:bookmarks")
async def unbookmark(status_id: str) -> Response:
    return await _act(interactions.unbookmark, status_id)


def _accounts_page(accounts: list[Any], cursor: str | None) -> Response:
    """Accounts, with a Link to the next page when there is one (`max_id`: our cursor)."""
    base = config().instance.base_url
    response = _json([account_entity(a, base, None) for a in accounts])
    if cursor is not None:
        kept = [(k, v) for k, v in request.args.items(multi=True) if k != "max_id"]
        url = f"{base}{request.path}?{urlencode([*kept, ('max_id', cursor)])}"
        response.headers["Link"] = f'<{url}>; rel="next"'
    return response


@bp.get("/<status_id>/favourited_by", strict_slashes=False)
async def favourited_by(status_id: str) -> Response:
    params = await read_params()
    limit = page_request({"limit": params.get("limit")}, default=40, maximum=80).limit
    # Likes are paged by a cursor of their own (a time and an account), passed as max_id.
    found = await interactions.likers(
        services(),
        await _reader(),
        id_param(status_id, "id"),
        until=text_param(params, "max_id") or None,
        limit=limit,
    )
    return _accounts_page(found.accounts, found.next)


@bp.get("/<status_id>/reblogged_by", strict_slashes=False)
async def reblogged_by(status_id: str) -> Response:
    page = page_request(await read_params(), default=40, maximum=80)
    found = await interactions.sharers(
        services(), await _reader(), id_param(status_id, "id"), until=page.max_id, limit=page.limit
    )
    return _accounts_page(found.accounts, str(found.next) if found.next is not None else None)
