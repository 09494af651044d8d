"""/follow_requests: the accounts asking to follow the viewer, accepted or rejected one by
one (forms that work without JavaScript; with htmx the row changes in place)."""

from __future__ import annotations

from quart import Blueprint, Response

from stgy.domain import accounts, follows
from stgy.domain.errors import NotFound
from stgy.http.validation import parse_id
from stgy.web import context
from stgy.web.post_cards import max_id
from stgy.web.post_pages import viewer_or_login
from stgy.web.rendering import go_to, is_htmx, render_page

bp = Blueprint("follow_requests", __name__)

PAGE = 40
PATH = "/follow_requests"
DECISIONS = {"accept": follows.accept_request, "reject": follows.reject_request}


@bp.get(PATH)
async def follow_requests_page() -> Response:
    viewer = await viewer_or_login()
    if isinstance(viewer, Response):
        return viewer
    found = await follows.requests(
        context.services(), viewer.account_id, until=max_id(), limit=PAGE
    )
    return await render_page(
        "pages/follow_requests.html", accounts=found.accounts, older=found.next, page_path=PATH
    )


@bp.post(f"{PATH}/<account_id>/<decision>")
async def decide(account_id: str, decision: str) -> Response:
    run = DECISIONS.get(decision)
    if run is None:
        raise NotFound("no such decision")
    viewer = await viewer_or_login()
    if isinstance(viewer, Response):
        return viewer
    number = parse_id(account_id, "account")
    services = context.services()
    try:
        # Only a request to the viewer: another's is not found, whoever sent its id.
        await run(services, viewer.account_id, number)
    except NotFound:
        if not is_htmx():
            raise
        return await _row(number, "gone", 404)
    if not is_htmx():
        return go_to(PATH)
    return await _row(number, "accepted" if decision == "accept" else "rejected", 200)


async def _row(account_id: int, decided: str, status: int) -> Response:
    """The request's row as it now stands, for htmx to swap in place."""
    try:
        account = await accounts.get_account(context.services(), account_id)
    except NotFound:
        account = None
    return await render_page(
        "partials/follow_request.html", status=status, other=account, decided=decided
    )
