"""Editing one's own post (a form filled in with its Markdown source, with a preview) and
a post's edit history at `/@<acct>/<id>/history`."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response, request

from stgy.domain import post_history, posts
from stgy.domain.errors import DomainError
from stgy.domain.posts import PostChanges, PostView
from stgy.http.validation import parse_id
from stgy.web import context
from stgy.web.form_errors import FormErrors, form_errors
from stgy.web.post_pages import moved_to, viewer_or_login
from stgy.web.rendering import go_to, render_page

bp = Blueprint("post_edits", __name__)

FIELDS = ("text", "summary", "language")


def _post_path(post: PostView) -> str:
    return f"/@{post.account.acct}/{post.id}"


async def _form(
    post: PostView,
    values: dict[str, str],
    *,
    errors: FormErrors | None = None,
    status: int = 200,
    preview_html: str | None = None,
) -> Response:
    return await render_page(
        "pages/edit_post.html",
        partial="partials/edit_form.html",
        status=status,
        post_id=str(post.id),
        post_path=_post_path(post),
        has_media=bool(post.media),
        values=values,
        errors=errors or FormErrors(),
        post_length=context.config().limits.post_length,
        preview_html=preview_html,
    )


@bp.get("/posts/<post_id>/edit")
async def edit_form(post_id: str) -> Response:
    viewer = await viewer_or_login()
    if isinstance(viewer, Response):
        return viewer
    post = await posts.editable_post(
        context.services(), viewer.account_id, parse_id(post_id, "post")
    )
    values = {
        "text": post.source,
        "summary": post.summary,
        "language": post.language or "",
        "sensitive": "1" if post.sensitive else "",
    }
    return await _form(post, values)


@bp.post("/posts/<post_id>/edit")
async def edit(post_id: str) -> Response:
    viewer = await viewer_or_login()
    if isinstance(viewer, Response):
        return viewer
    services = context.services()
    # Someone else's post is refused as such (403), before anything else is looked at.
    post = await posts.editable_post(services, viewer.account_id, parse_id(post_id, "post"))
    form = await request.form
    # A textarea sends CRLF line breaks; the limit counts LF ones, as on composing.
    values: dict[str, Any] = {
        "text": form.get("text", "").replace("\r\n", "\n"),
        "summary": form.get("summary", "").strip(),
        "language": form.get("language", "").strip(),
        "sensitive": "1" if form.get("sensitive") else "",
    }
    try:
        if form.get("preview"):
            html = await posts.preview_html(
                services, viewer.account_id, values["text"], editing=post.id
            )
            return await _form(post, values, preview_html=html)
        edited = await posts.edit_post(
            services,
            viewer.account_id,
            post.id,
            PostChanges(
                text=values["text"],
                summary=values["summary"],
                # The box is there only for a post with images; else the flag is kept.
                sensitive=bool(values["sensitive"]) if post.media else None,
                language=values["language"] or None,
                clear_language=not values["language"],
            ),
        )
    except DomainError as exc:
        return await _form(post, values, errors=form_errors(exc, FIELDS), status=exc.status)
    return go_to(_post_path(edited))


@bp.get("/@<acct>/<post_id>/history")
async def history(acct: str, post_id: str) -> Response:
    viewer = await context.maybe_viewer()
    found = await post_history.history(
        context.services(), parse_id(post_id, "post"), viewer.account_id if viewer else None
    )
    moved = moved_to(acct, found.post.account, f"/{found.post.id}/history")
    if moved is not None:
        return moved
    return await render_page(
        "pages/post_history.html",
        post=found.post,
        post_path=_post_path(found.post),
        versions=found.versions,
        complete=found.complete,
    )
