"""A post's page (its thread) at its public URL, and what a reader does to a post: like,
share, bookmark (and undo them), delete. Each action is a small form that works without
JavaScript (303 back to where it was sent from) and, with htmx, answers the post's
action bar alone, swapped in place."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from quart import Blueprint, Response, request

from stgy.domain import interactions, post_reads, posts, renderings
from stgy.domain.accounts import Account
from stgy.domain.errors import NotFound
from stgy.http.validation import parse_id
from stgy.services import Services
from stgy.web import context
from stgy.web.post_cards import drawn_cards
from stgy.web.rendering import go_to, is_htmx, local_path, render_page
from storage.sessions import Viewer

bp = Blueprint("posts", __name__)

Action = Callable[[Services, int, int], Awaitable[object]]
ACTIONS: dict[str, Action] = {
    "like": interactions.like,
    "unlike": interactions.unlike,
    "share": interactions.share,
    "unshare": interactions.unshare,
    "bookmark": interactions.bookmark,
    "unbookmark": interactions.unbookmark,
}


async def viewer_or_login() -> Viewer | Response:
    """The logged-in viewer, or the log-in page's address to go to first."""
    viewer = await context.maybe_viewer()
    if viewer is not None:
        return viewer
    back = request.path if request.method == "GET" else (await request.form).get("next")
    return go_to("/auth/login?next=" + quote(local_path(back), safe="/"))


async def _card(post_id: int, viewer_id: int | None) -> dict[str, object]:
    page = await renderings.posts_page(
        context.services(), context.page_renderer(), [post_id], viewer_id
    )
    found = await drawn_cards(page)
    if not found:
        raise NotFound("no such post")
    return found[0]


def moved_to(acct: str, author: Account, path: str) -> Response | None:
    """A 301 to `/@<author's acct><path>` (query string kept) when the address names
    another account than the post's author: a renamed account, or a wrong handle."""
    if acct == author.acct:
        return None
    target = f"/@{quote(author.acct, safe='@')}{path}"
    if request.query_string:
        target += "?" + request.query_string.decode("ascii", "replace")
    response = Response("", status=301)
    response.headers["Location"] = target
    return response


@bp.get("/@<acct>/<post_id>")
async def post_page(acct: str, post_id: str) -> Response:
    viewer = await context.maybe_viewer()
    viewer_id = viewer.account_id if viewer else None
    thread = await post_reads.get_thread(context.services(), parse_id(post_id, "post"), viewer_id)
    moved = moved_to(acct, thread.post.account, f"/{thread.post.id}")
    if moved is not None:
        return moved
    ids = [v.id for v in thread.ancestors] + [thread.post.id] + [v.id for v in thread.replies]
    page = await renderings.posts_page(context.services(), context.page_renderer(), ids, viewer_id)
    shown = {int(card["id"]): card for card in await drawn_cards(page)}
    post = shown.get(thread.post.id)
    if post is None:
        raise NotFound("no such post")
    return await render_page(
        "pages/post.html",
        post=post,
        ancestors=[shown[v.id] for v in thread.ancestors if v.id in shown],
        replies=[shown[v.id] for v in thread.replies if v.id in shown],
    )


@bp.post("/posts/<post_id>/<action>")
async def act(post_id: str, action: str) -> Response:
    """`/posts/<id>/like` and the like, or `/posts/<id>/actions` with the action in `do`
    (the value of the action bar's button that was pressed)."""
    form = await request.form
    run = ACTIONS.get(form.get("do", "") if action == "actions" else action)
    if run is None:
        raise NotFound("no such action")
    viewer = await viewer_or_login()
    if isinstance(viewer, Response):
        return viewer
    number = parse_id(post_id, "post")
    await run(context.services(), viewer.account_id, number)
    back = local_path(form.get("next"))
    if not is_htmx():
        return go_to(f"{back}#post-{number}")
    post = await _card(number, viewer.account_id)
    return await render_page("partials/post_actions.html", post=post, next_path=back)


@bp.get("/posts/<post_id>/delete")
async def confirm_delete(post_id: str) -> Response:
    viewer = await viewer_or_login()
    if isinstance(viewer, Response):
        return viewer
    post = await _card(parse_id(post_id, "post"), viewer.account_id)
    if post["account"]["id"] != str(viewer.account_id):  # type: ignore[index]
        raise NotFound("no such post of yours")
    return await render_page(
        "pages/delete_post.html", post=post, next_path=local_path(request.args.get("next"))
    )


@bp.post("/posts/<post_id>/delete")
async def delete(post_id: str) -> Response:
    viewer = await viewer_or_login()
    if isinstance(viewer, Response):
        return viewer
    await posts.delete_post(context.services(), viewer.account_id, parse_id(post_id, "post"))
    form = await request.form
    target = local_path(form.get("next"))
    if target.startswith("/@"):
        target = "/"  # the post's own page is gone
    return go_to(target)
