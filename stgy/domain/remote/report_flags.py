"""Forwarding a report to the reported account's instance: a `Flag` from our instance
actor, as Mastodon sends it, so the reporter is never named (docs/federation.md)."""

from __future__ import annotations

from federation import activities
from stgy.domain.errors import Invalid
from stgy.domain.remote.delivery import INSTANCE_ACTOR
from stgy.domain.remote.outgoing import send
from stgy.services import Services
from storage import deliveries as deliveries_sql
from storage.accounts import Account
from storage.db import Conn


def flag_id(services: Services, report_id: int) -> str:
    return f"{services.config.instance.base_url}/actor#reports/{report_id}"


async def forward_report(
    conn: Conn,
    services: Services,
    *,
    report_id: int,
    target: Account,
    post_ap_ids: list[str],
    comment: str,
) -> None:
    """Record the Flag's delivery in the caller's transaction (sent after its commit), to
    the account's own inbox; Invalid("forward") when it cannot be sent there."""
    if target.is_local:
        raise Invalid("forward", "only a report about another instance's account is forwarded")
    if not services.config.federation.enabled:
        raise Invalid("forward", "federation is off on this instance")
    inbox = await deliveries_sql.personal_inbox(conn, account_id=target.id)
    if inbox is None:
        raise Invalid("forward", "the account's instance is blocked or has no inbox")
    activity = activities.flag(
        flag_id(services, report_id),
        f"{services.config.instance.base_url}/actor",
        target.ap_id,
        post_ap_ids,
        comment,
    )
    await send(conn, sender_id=INSTANCE_ACTOR, activity=activity, inboxes=[inbox])
