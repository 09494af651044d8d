"""/report: the form that reports an account (and some of its posts) to the moderators,
linked from a post's menu and from profiles. A plain form; it works without JavaScript."""

from __future__ import annotations

from collections.abc import Mapping

from quart import Blueprint, Response, request

from stgy.domain import reports
from stgy.domain.errors import DomainError
from stgy.domain.reports import NewReport, ReportForm
from stgy.http.validation import parse_id
from stgy.web import context
from stgy.web.form_errors import FormErrors, form_errors
from stgy.web.post_pages import viewer_or_login
from stgy.web.rendering import go_to, render_page

bp = Blueprint("report_pages", __name__)

FIELDS = ("category", "rule_ids", "post_ids", "comment", "forward")


def _ids(values: list[str], what: str) -> tuple[int, ...]:
    return tuple(parse_id(value, what) for value in values if value)


async def _page(
    form: ReportForm, values: Mapping[str, object], errors: FormErrors, status: int = 200
) -> Response:
    return await render_page(
        "pages/report.html",
        status=status,
        account=form.account,
        posts=form.posts,
        rules=form.rules,
        categories=reports.CATEGORIES,
        max_comment=reports.MAX_COMMENT,
        values=values,
        errors=errors,
    )


@bp.get("/report")
async def report_form() -> Response:
    viewer = await viewer_or_login()
    if isinstance(viewer, Response):
        return viewer
    account_id = parse_id(request.args.get("account", ""), "account")
    post_ids = _ids(request.args.getlist("post"), "post")
    form = await reports.report_form(context.services(), viewer.account_id, account_id, post_ids)
    values = {"category": "other", "posts": [p.id for p in form.posts], "rules": []}
    return await _page(form, values, FormErrors())


@bp.post("/report")
async def send_report() -> Response:
    viewer = await viewer_or_login()
    if isinstance(viewer, Response):
        return viewer
    data = await request.form
    account_id = parse_id(data.get("account", ""), "account")
    offered = _ids(data.getlist("offered"), "post")
    new = NewReport(
        account_id=account_id,
        post_ids=_ids(data.getlist("post"), "post"),
        category=data.get("category", ""),
        rule_ids=_ids(data.getlist("rule"), "rule"),
        comment=data.get("comment", ""),
        forward=data.get("forward") == "on",
    )
    try:
        await reports.create_report(context.services(), viewer.account_id, new)
    except DomainError as exc:
        # The form again as it was sent, the posts it offered still offered.
        form = await reports.report_form(
            context.services(), viewer.account_id, account_id, offered, skip_unreportable=True
        )
        values = {
            "category": new.category,
            "posts": list(new.post_ids),
            "rules": list(new.rule_ids),
            "comment": new.comment,
            "forward": new.forward,
        }
        return await _page(form, values, form_errors(exc, FIELDS), exc.status)
    return go_to(f"/report/sent?forwarded={'1' if new.forward else '0'}")


@bp.get("/report/sent")
async def report_sent() -> Response:
    return await render_page(
        "pages/report_sent.html", forwarded=request.args.get("forwarded") == "1"
    )
