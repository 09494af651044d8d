"""The instance's rules (issue 17): an ordered list of short texts admins edit, shown
at sign-up and on /about, and offered to the report form. Every change writes an audit
row in its transaction."""

from __future__ import annotations

from dataclasses import dataclass

from stgy.domain import audit, roles
from stgy.domain.errors import Invalid, NotFound
from stgy.domain.roles import Staff
from stgy.services import Services
from storage import instance_admin as admin_sql
from storage.instance_admin import Rule

__all__ = [
    "MAX_RULES",
    "MAX_TEXT",
    "Rule",
    "RuleText",
    "add_rule",
    "change_rule",
    "list_rules",
    "move_rule",
    "remove_rule",
]

MAX_TEXT = 500
MAX_RULES = 100


@dataclass(frozen=True)
class RuleText:
    """What a rule is for readers (the report form and the API): its id and text."""

    id: int
    text: str


def _check_text(text: str) -> str:
    clean = text.strip()
    if not clean:
        raise Invalid("text", "required")
    if len(clean) > MAX_TEXT:
        raise Invalid("text", f"at most {MAX_TEXT} characters")
    return clean


async def list_rules(services: Services) -> list[RuleText]:
    """The rules in order (anyone may read them)."""
    async with services.pool.acquire() as conn:
        return [RuleText(r.id, r.text) for r in await admin_sql.list_rules(conn)]


async def full_rules(services: Services, staff: Staff) -> list[Rule]:
    roles.require(staff, roles.ADMIN)
    async with services.pool.acquire() as conn:
        return await admin_sql.list_rules(conn)


async def add_rule(services: Services, staff: Staff, text: str) -> Rule:
    """A rule after the last."""
    roles.require(staff, roles.ADMIN)
    clean = _check_text(text)
    async with services.pool.acquire() as conn, conn.transaction():
        if len(await admin_sql.list_rules(conn)) >= MAX_RULES:
            raise Invalid("text", f"at most {MAX_RULES} rules")
        rule = await admin_sql.insert_rule(conn, text=clean)
        await audit.record(conn, staff, "rule.create", "rule", rule.id, details={"text": clean})
    return rule


async def change_rule(services: Services, staff: Staff, rule_id: int, text: str) -> Rule:
    roles.require(staff, roles.ADMIN)
    clean = _check_text(text)
    async with services.pool.acquire() as conn, conn.transaction():
        before = await admin_sql.get_rule(conn, rule_id=rule_id)
        rule = await admin_sql.update_rule_text(conn, rule_id=rule_id, text=clean)
        if before is None or rule is None:
            raise NotFound(f"no rule {rule_id}")
        await audit.record(
            conn,
            staff,
            "rule.update",
            "rule",
            rule_id,
            details={"before": before.text, "text": clean},
        )
    return rule


async def move_rule(services: Services, staff: Staff, rule_id: int, position: int) -> list[Rule]:
    """Put a rule at `position` (0 first; past the end: last); the rules in order."""
    roles.require(staff, roles.ADMIN)
    async with services.pool.acquire() as conn, conn.transaction():
        ids = [r.id for r in await admin_sql.list_rules(conn)]
        if rule_id not in ids:
            raise NotFound(f"no rule {rule_id}")
        if position < 0:
            raise Invalid("position", "0 or more")
        before = ids.index(rule_id)
        ids.remove(rule_id)
        ids.insert(min(position, len(ids)), rule_id)
        await admin_sql.set_positions(conn, ids=ids)
        await audit.record(
            conn,
            staff,
            "rule.move",
            "rule",
            rule_id,
            details={"from": before, "to": ids.index(rule_id)},
        )
        return await admin_sql.list_rules(conn)


async def remove_rule(services: Services, staff: Staff, rule_id: int) -> None:
    roles.require(staff, roles.ADMIN)
    async with services.pool.acquire() as conn, conn.transaction():
        rule = await admin_sql.delete_rule(conn, rule_id=rule_id)
        if rule is None:
            raise NotFound(f"no rule {rule_id}")
        await admin_sql.set_positions(conn, ids=[r.id for r in await admin_sql.list_rules(conn)])
        await audit.record(conn, staff, "rule.delete", "rule", rule_id, details={"text": rule.text})
