"""Profiles: `/@handle` (local) and `/@user@host` (remote, found through WebFinger as the
API's account lookup does), with their posts, followers and following, and the forms
that follow, unfollow, block and mute an account."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from quart import Blueprint, Response, request

from stgy.domain import accounts, follows, post_reads, relations, renderings
from stgy.domain.agents import manage
from stgy.domain.remote import resolve
from stgy.http.validation import parse_id
from stgy.services import Services
from stgy.web import context
from stgy.web.post_cards import drawn_cards, limit_query, max_id, older_than, page_size
from stgy.web.post_pages import viewer_or_login
from stgy.web.rendering import go_to, is_htmx, local_path, render_page

if TYPE_CHECKING:  # the record the domain returns; no storage call from here
    from storage.accounts import Account

bp = Blueprint("profiles", __name__)

Change = Callable[[Services, int, int], Awaitable[object]]
CHANGES: dict[str, Change] = {
    "follow": follows.follow,
    "unfollow": follows.unfollow,
    "block": relations.block,
    "unblock": relations.unblock,
    "mute": relations.mute,
    "unmute": relations.unmute,
}
LISTS = {"followers": follows.followers, "following": follows.following}


async def _account(acct: str) -> Account:
    return await resolve.find_account(context.services(), acct, client=context.client_ip())


async def _relationship(account: Account) -> object | None:
    viewer = await context.maybe_viewer()
    if viewer is None or viewer.account_id == account.id:
        return None
    return await relations.relationship(context.services(), viewer.account_id, account.id)


@bp.get("/@<acct>")
async def profile(acct: str) -> Response:
    account = await _account(acct)
    viewer = await context.maybe_viewer()
    viewer_id = viewer.account_id if viewer else None
    views = await post_reads.account_posts(
        context.services(), account.id, viewer_id, since=None, until=max_id(), limit=page_size()
    )
    page = await renderings.posts_page(
        context.services(), context.page_renderer(), [v.id for v in views], viewer_id
    )
    shown = await drawn_cards(page, articles_only=True)
    return await render_page(
        "pages/profile.html",
        partial="partials/timeline_page.html",
        account=account,
        relationship=await _relationship(account),
        agent=await manage.agent_profile(context.services(), account.id) if account.bot else None,
        posts=shown,
        older=older_than(page, len(views)),
        page_path=f"/@{account.acct}",
        limit_query=limit_query(),
    )


@bp.get("/@<acct>/followers")
async def followers(acct: str) -> Response:
    return await _account_list(acct, "followers")


@bp.get("/@<acct>/following")
async def following(acct: str) -> Response:
    return await _account_list(acct, "following")


async def _account_list(acct: str, which: str) -> Response:
    account = await _account(acct)
    found = await LISTS[which](context.services(), account.id, until=max_id(), limit=40)
    return await render_page(
        "pages/account_list.html",
        account=account,
        which=which,
        accounts=found.accounts,
        older=found.next,
        page_path=f"/@{account.acct}/{which}",
    )


@bp.post("/accounts/<account_id>/<change>")
async def change_relationship(account_id: str, change: str) -> Response:
    run = CHANGES.get(change)
    if run is None:
        return Response("", status=404)
    viewer = await viewer_or_login()
    if isinstance(viewer, Response):
        return viewer
    number = parse_id(account_id, "account")
    await run(context.services(), viewer.account_id, number)
    form = await request.form
    back = local_path(form.get("next"))
    if not is_htmx():
        return go_to(back)
    account = await accounts.get_account(context.services(), number)
    return await render_page(
        "partials/profile_actions.html",
        account=account,
        relationship=await _relationship(account),
        next_path=back,
    )
