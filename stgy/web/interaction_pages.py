"""Remote interaction, both ways. `/interact?uri=` lets a visitor with an account on
another server follow or answer from there: their address, then their server's subscribe
page (found through WebFinger). `/authorize_interaction?uri=` (or `?acct=`) is where our
own WebFinger answer sends our people arriving from elsewhere: the account to follow, or
the post's page here."""

from __future__ import annotations

from urllib.parse import quote

from quart import Blueprint, Response, request

from stgy.domain import post_reads, relations
from stgy.domain.errors import DomainError, Invalid, NotFound
from stgy.domain.remote import interaction, resolve, resolve_url
from stgy.web import context, security
from stgy.web.form_errors import FormErrors, form_errors
from stgy.web.i18n import gettext as _
from stgy.web.rendering import go_to, render_page

bp = Blueprint("interaction_pages", __name__)

INTERACT = "/interact"
AUTHORIZE = "/authorize_interaction"


def _reasons() -> dict[str, str]:
    return {
        interaction.NOT_AN_ADDRESS: _(
            "Type your address as user@server, e.g. alice@example.social."
        ),
        interaction.UNREACHABLE: _("Your server could not be reached. Check the address."),
        interaction.NO_ACCOUNT: _("Your server does not know this account. Check the address."),
        interaction.NO_TEMPLATE: _(
            "Your server does not offer remote interaction. Search for the address there instead."
        ),
    }


def _interact_policy() -> str:
    """The interact page's form ends on the visitor's own server (a 303 there), which
    `form-action 'self'` would refuse; http too on a development or test instance."""
    schemes = (
        "https:" if context.config().instance.base_url.startswith("https:") else "https: http:"
    )
    return security.CONTENT_SECURITY_POLICY.replace(
        "form-action 'self'", f"form-action 'self' {schemes}"
    )


async def _target(uri: str) -> resolve_url.Resolved | None:
    """What the uri names among what this server has (nothing is fetched for a visitor)."""
    try:
        return await resolve_url.resolve_url(context.services(), uri, client=None, fetch=False)
    except DomainError:
        return None


async def _interact_page(
    uri: str, values: dict[str, str], errors: FormErrors, status: int
) -> Response:
    target = await _target(uri)
    response = await render_page(
        "pages/interact.html",
        status=status,
        uri=uri,
        target_account=target.account if target else None,
        target_post=target is not None and target.post_id is not None,
        values=values,
        errors=errors,
        login_next=f"{AUTHORIZE}?uri={quote(uri, safe='')}",
    )
    response.headers["Content-Security-Policy"] = _interact_policy()
    return response


async def _bad_uri() -> Response:
    return await render_page("pages/interact_unknown.html", status=400, reason="bad_uri")


@bp.get(INTERACT)
async def interact_form() -> Response:
    try:
        uri = resolve_url.check_url(request.args.get("uri"))
    except Invalid:
        return await _bad_uri()
    return await _interact_page(uri, {}, FormErrors(), 200)


@bp.post(INTERACT)
async def interact() -> Response:
    form = await request.form
    try:
        uri = resolve_url.check_url(form.get("uri"))
    except Invalid:
        return await _bad_uri()
    acct = form.get("acct", "").strip()
    values = {"acct": acct}
    if not acct:
        return await _interact_page(
            uri, values, FormErrors(fields={"acct": _("Fill this in.")}), 400
        )
    try:
        location = await interaction.interaction_url(
            context.services(), acct, uri, client=context.client_ip()
        )
    except Invalid as exc:
        if exc.field == "uri":
            return await _bad_uri()
        errors = FormErrors(fields={"acct": _reasons().get(exc.reason, exc.reason)})
        return await _interact_page(uri, values, errors, 400)
    except DomainError as exc:  # rate limited
        return await _interact_page(uri, values, form_errors(exc, ("acct",)), exc.status)
    # Off to their server (the page's policy lets the form end there).
    return go_to(location)


@bp.get(AUTHORIZE)
async def authorize_interaction() -> Response:
    viewer = await context.maybe_viewer()
    if viewer is None:
        back = request.full_path if request.query_string else request.path
        return go_to("/auth/login?next=" + quote(back, safe="/"))
    services = context.services()
    uri = request.args.get("uri")
    acct = request.args.get("acct")
    try:
        if acct is not None and uri is None:
            named = await resolve.find_account(services, acct, client=context.client_ip())
            found = resolve_url.Resolved(account=named)
        else:
            found = await resolve_url.resolve_url(
                services, uri or "", client=context.client_ip(), fetch=True
            )
        if found.post_id is not None:
            thread = await post_reads.get_thread(services, found.post_id, viewer.account_id)
            post = thread.post
            return go_to(f"/@{post.account.acct}/{post.id}")
    except Invalid:
        return await render_page("pages/interact_unknown.html", status=400, reason="bad_uri")
    except NotFound:
        return await render_page("pages/interact_unknown.html", status=404, reason="unknown")
    account = found.account
    assert account is not None  # noqa: S101 - a Resolved names an account or a post
    relationship = None
    if account.id != viewer.account_id:
        relationship = await relations.relationship(services, viewer.account_id, account.id)
    return await render_page(
        "pages/authorize_interaction.html",
        account=account,
        relationship=relationship,
        page_path=f"/@{account.acct}",
        next_path=f"/@{account.acct}",
    )
