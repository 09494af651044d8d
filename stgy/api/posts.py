"""Native API: posts (write, edit, delete, read, lists) and likes, shares, bookmarks."""

from __future__ import annotations

from quart import Blueprint, Response, jsonify, request
from quart_schema import document_headers

from stgy.api import schemas
from stgy.api.account_refs import account_id_of
from stgy.api.serializers import account_json, post_json
from stgy.domain import interactions, post_reads, posts
from stgy.domain.errors import Invalid
from stgy.domain.mail.email_confirmation import check_can_post
from stgy.domain.remote import context_fetch
from stgy.http.context import maybe_viewer, require_viewer, services
from stgy.http.validation import PageQuery, json_body, parse_cursor, parse_id, query, responds
from storage.posts import PostView

bp = Blueprint("posts", __name__, url_prefix="/api")

# Fields an edit may not set to null (language may: that clears it).
_NOT_NULL_ON_EDIT = ("text", "summary", "sensitive", "tags", "media_ids")


def _page(views: list[PostView]) -> Response:
    return jsonify(
        {
            "posts": [post_json(v) for v in views],
            "newest": str(views[0].id) if views else None,
            "oldest": str(views[-1].id) if views else None,
        }
    )


@bp.post("/posts")
@json_body(schemas.PostIn)
@document_headers(schemas.IdempotencyHeaders)
@responds(schemas.PostOut, 201)
@schemas.fails_with(400, 401, 403, 404, 422)
async def create_post(body: schemas.PostIn) -> tuple[Response, int]:
    """Write a post. With an Idempotency-Key, a retry returns the first post.
    An unconfirmed account cannot post while confirmation is required (403)."""
    viewer = await require_viewer()
    check_can_post(services().config, viewer)
    reply_to = parse_id(body.reply_to, "post to reply to") if body.reply_to is not None else None
    draft = posts.PostDraft(
        text=body.text,
        reply_to_id=reply_to,
        tags=body.tags,
        visibility=body.visibility,
        summary=body.summary,
        sensitive=body.sensitive,
        allow_likes=body.allow_likes,
        allow_replies=body.allow_replies,
        media_ids=body.media_ids,
        language=body.language,
    )
    created = await posts.create_post(
        services(), viewer.account_id, draft, request.headers.get("Idempotency-Key")
    )
    response = jsonify(post_json(created.view))
    if created.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response, 201


@bp.get("/posts/<post_id>")
@responds(schemas.PostThread)
@responds(schemas.Error, 404)
async def get_post(post_id: str) -> Response:
    """A post with the visible posts it replies to and its first direct replies."""
    viewer = await maybe_viewer()
    thread = await post_reads.get_thread(
        services(), parse_id(post_id, "post"), viewer.account_id if viewer else None
    )
    return jsonify(
        {
            "post": post_json(thread.post),
            "ancestors": [post_json(v) for v in thread.ancestors],
            "replies": [post_json(v) for v in thread.replies],
        }
    )


@bp.get("/posts/<post_id>/context")
@responds(schemas.ContextOut)
@responds(schemas.Error, 404)
async def post_context(post_id: str) -> Response:
    """The visible posts above a post and below it. For a post of another server this
    also fetches, in a job, the posts of its thread we lack: ask again to see them."""
    viewer = await maybe_viewer()
    found = await context_fetch.get_context(
        services(), parse_id(post_id, "post"), viewer.account_id if viewer else None
    )
    return jsonify(
        {
            "ancestors": [post_json(v) for v in found.ancestors],
            "descendants": [post_json(v) for v in found.descendants],
        }
    )


@bp.patch("/posts/<post_id>")
@json_body(schemas.PostEditIn)
@responds(schemas.PostOut)
@schemas.fails_with(400, 401, 404, 422)
async def edit_post(post_id: str, body: schemas.PostEditIn) -> Response:
    """Edit an own post; the previous version is kept in its history."""
    viewer = await require_viewer()
    for name in _NOT_NULL_ON_EDIT:
        if name in body.model_fields_set and getattr(body, name) is None:
            raise Invalid(name, "must not be null")
    changes = posts.PostChanges(
        text=body.text,
        summary=body.summary,
        sensitive=body.sensitive,
        tags=body.tags,
        language=body.language,
        clear_language="language" in body.model_fields_set and body.language is None,
        media_ids=body.media_ids,
    )
    view = await posts.edit_post(services(), viewer.account_id, parse_id(post_id, "post"), changes)
    return jsonify(post_json(view))


@bp.delete("/posts/<post_id>")
@responds(schemas.PostOut)
@schemas.fails_with(401, 404)
async def delete_post(post_id: str) -> Response:
    """Delete an own post or share; answers with the post as it was."""
    viewer = await require_viewer()
    view = await posts.delete_post(services(), viewer.account_id, parse_id(post_id, "post"))
    return jsonify(post_json(view))


@bp.get("/accounts/<account_id>/posts")
@query(PageQuery)
@responds(schemas.PostPage)
@schemas.fails_with(400, 404, 429)
async def account_posts(account_id: str, query: PageQuery) -> Response:
    """An account's posts and shares that the caller may see, newest first."""
    viewer = await maybe_viewer()
    since = parse_cursor(query.since, "since")
    until = parse_cursor(query.until, "until")
    found = await account_id_of(account_id, look_up=True)
    views = await post_reads.account_posts(
        services(),
        found,
        viewer.account_id if viewer else None,
        since=since,
        until=until,
        limit=query.limit,
    )
    return _page(views)


# --- likes, shares, bookmarks -----------------------------------------------------------


@bp.put("/posts/<post_id>/like")
@responds(schemas.PostOut)
@schemas.fails_with(401, 403, 404)
async def like(post_id: str) -> Response:
    """Like a post (liking twice counts once); 403 when its author does not accept likes."""
    viewer = await require_viewer()
    view = await interactions.like(services(), viewer.account_id, parse_id(post_id, "post"))
    return jsonify(post_json(view))


@bp.delete("/posts/<post_id>/like")
@responds(schemas.PostOut)
@schemas.fails_with(401, 404)
async def unlike(post_id: str) -> Response:
    viewer = await require_viewer()
    view = await interactions.unlike(services(), viewer.account_id, parse_id(post_id, "post"))
    return jsonify(post_json(view))


@bp.get("/posts/<post_id>/likes")
@query(schemas.LikesQuery)
@responds(schemas.AccountList)
@schemas.fails_with(400, 404)
async def likes(post_id: str, query: schemas.LikesQuery) -> Response:
    """Accounts that liked the post, newest like first; pass `next` as `until` for more."""
    viewer = await maybe_viewer()
    page = await interactions.likers(
        services(),
        viewer.account_id if viewer else None,
        parse_id(post_id, "post"),
        until=query.until,
        limit=query.limit,
    )
    return jsonify({"accounts": [account_json(a) for a in page.accounts], "next": page.next})


@bp.put("/posts/<post_id>/share")
@responds(schemas.PostOut)
@schemas.fails_with(401, 403, 404)
async def share(post_id: str) -> Response:
    """Share (boost) a post; answers with the shared post. Followers-only and direct: 403."""
    viewer = await require_viewer()
    check_can_post(services().config, viewer)
    view = await interactions.share(services(), viewer.account_id, parse_id(post_id, "post"))
    return jsonify(post_json(view))


@bp.delete("/posts/<post_id>/share")
@responds(schemas.PostOut)
@schemas.fails_with(401, 404)
async def unshare(post_id: str) -> Response:
    viewer = await require_viewer()
    view = await interactions.unshare(services(), viewer.account_id, parse_id(post_id, "post"))
    return jsonify(post_json(view))


@bp.put("/posts/<post_id>/bookmark")
@responds(schemas.PostOut)
@schemas.fails_with(401, 404)
async def bookmark(post_id: str) -> Response:
    viewer = await require_viewer()
    view = await interactions.bookmark(services(), viewer.account_id, parse_id(post_id, "post"))
    return jsonify(post_json(view))


@bp.delete("/posts/<post_id>/bookmark")
@responds(schemas.PostOut)
@schemas.fails_with(401, 404)
async def unbookmark(post_id: str) -> Response:
    viewer = await require_viewer()
    view = await interactions.unbookmark(services(), viewer.account_id, parse_id(post_id, "post"))
    return jsonify(post_json(view))


@bp.get("/bookmarks")
@query(PageQuery)
@responds(schemas.BookmarkPage)
@schemas.fails_with(400, 401)
async def bookmarks(query: PageQuery) -> Response:
    """The caller's bookmarks, newest bookmark first; cursors are bookmark ids."""
    viewer = await require_viewer()
    page = await interactions.bookmarks(
        services(),
        viewer.account_id,
        since=parse_cursor(query.since, "since"),
        until=parse_cursor(query.until, "until"),
        limit=query.limit,
    )
    return jsonify(
        {
            "posts": [post_json(v) for v in page.posts],
            "newest": str(page.newest) if page.newest is not None else None,
            "oldest": str(page.oldest) if page.oldest is not None else None,
        }
    )
