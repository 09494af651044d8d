"""POST /api/v1/reports: a person reports an account (and some of its statuses) to the
moderators, through the same domain call as the web UI and the native API."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response, jsonify

from stgy.domain import reports
from stgy.domain.errors import Invalid
from stgy.http.context import config, services
from stgy.mastodon.auth import current_viewer, scoped
from stgy.mastodon.entities import account_entity, mastodon_time
from stgy.mastodon.params import bool_param, id_param, list_param, read_params, text_param
from storage import accounts as accounts_sql

bp = Blueprint("mastodon_reports", __name__, url_prefix="/api/v1/reports")

# Mastodon's categories and ours: the same four, `legal` named `illegal` here.
CATEGORIES = {"spam": "spam", "legal": "illegal", "violation": "violation", "other": "other"}
OUR_CATEGORIES = {ours: theirs for theirs, ours in CATEGORIES.items()}


def _ids(params: dict[str, Any], name: str) -> tuple[int, ...]:
    found = []
    for value in list_param(params, name):
        if not value.isascii() or not value.isdigit() or len(value) > 19:
            raise Invalid(name, "must be ids")
        found.append(int(value))
    return tuple(found)


def report_entity(report: reports.Report, target: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(report.id),
        "action_taken": report.resolved_at is not None,
        "action_taken_at": mastodon_time(report.resolved_at) if report.resolved_at else None,
        "category": OUR_CATEGORIES.get(report.category, "other"),
        "comment": report.comment,
        "forwarded": report.forwarded_at is not None,
        "created_at": mastodon_time(report.created_at),
        "status_ids": [str(i) for i in report.post_ids] or None,
        "rule_ids": [str(i) for i in report.rule_ids] or None,
        "target_account": target,
    }


@bp.post("", strict_slashes=False)
@scoped("write:reports")
async def create() -> Response:
    params = await read_params()
    account_id = id_param(text_param(params, "account_id"), "account_id")
    category = text_param(params, "category")
    rule_ids = _ids(params, "rule_ids")
    if category is None:
        # As Mastodon: naming rules makes it a violation report, else `other`.
        category = "violation" if rule_ids else "other"
    if category not in CATEGORIES:
        raise Invalid("category", f"must be one of {', '.join(CATEGORIES)}")
    made = await reports.create_report(
        services(),
        current_viewer().account_id,
        reports.NewReport(
            account_id=account_id,
            post_ids=_ids(params, "status_ids"),
            category=CATEGORIES[category],
            rule_ids=rule_ids,
            comment=text_param(params, "comment") or "",
            forward=bool(bool_param(params, "forward", False)),
        ),
    )
    async with services().pool.acquire() as conn:
        target = await accounts_sql.get_account(conn, account_id=made.target_id)
    assert target is not None  # noqa: S101 - reported in this request
    return jsonify(report_entity(made, account_entity(target, config().instance.base_url, None)))
