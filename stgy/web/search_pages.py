"""/search: accounts, tags and posts (the API's search). `user@host` and URLs of accounts
and posts find that one; for a logged-in viewer they are looked up on their server when
this one does not know them yet, as Mastodon resolves for its users only."""

from __future__ import annotations

from quart import Blueprint, Response, request

from stgy.domain import renderings, search
from stgy.domain.errors import Invalid
from stgy.web import context
from stgy.web.form_errors import FormErrors, form_errors
from stgy.web.i18n import gettext as _
from stgy.web.post_cards import drawn_cards
from stgy.web.rendering import render_page

bp = Blueprint("search_pages", __name__)

LIMIT = 20


def _message(error: Invalid) -> FormErrors:
    if error.reason.startswith("required"):
        return FormErrors(fields={"q": _("Type what to look for.")})
    if error.reason.startswith("at most"):
        return FormErrors(
            fields={"q": _("Use at most %(count)d characters.", count=search.MAX_QUERY)}
        )
    return form_errors(error, ("q",))


@bp.get("/search")
async def search_page() -> Response:
    q = request.args.get("q")
    viewer = await context.maybe_viewer()
    viewer_id = viewer.account_id if viewer else None
    shown_query = (q or "")[: search.MAX_QUERY * 2]
    if q is None:
        return await render_page(
            "pages/search.html", results=None, errors=FormErrors(), search_query=shown_query
        )
    services = context.services()
    try:
        results = await search.search(
            services,
            q,
            viewer_id=viewer_id,
            limit=LIMIT,
            client=context.client_ip(),
            resolve=viewer is not None,
        )
    except Invalid as exc:
        return await render_page(
            "pages/search.html",
            status=400,
            results=None,
            errors=_message(exc),
            search_query=shown_query,
        )
    page = await renderings.posts_page(
        services, context.page_renderer(), [view.id for view in results.posts], viewer_id
    )
    text = q.strip()
    return await render_page(
        "pages/search.html",
        results=results,
        posts=await drawn_cards(page),
        errors=FormErrors(),
        # An address or a URL that found nothing: a member's lookup failed; a visitor's
        # was not tried (only members make this server ask others).
        exact=text.lower().startswith(("http://", "https://")) or "@" in text.removeprefix("@"),
        page_path=request.full_path,
        search_query=shown_query,
    )
