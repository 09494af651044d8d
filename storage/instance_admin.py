"""SQL for what admins change of the instance live (migration 0025): its rules and the
settings that override instance.toml's [instance] section."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import Conn


@dataclass(frozen=True)
class Rule:
    id: int
    position: int
    text: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class StoredSettings:
    """NULL (None) where instance.toml's value applies."""

    name: str | None
    description: str | None
    contact_email: str | None
    registrations: str | None
    show_domain_blocks: bool


_RULE_COLUMNS = "id, position, text, created_at, updated_at"


async def list_rules(conn: Conn) -> list[Rule]:
    rows = await conn.fetch(
        "SELECT " + _RULE_COLUMNS + " FROM instance_rules ORDER BY position, id"
    )
    return [Rule(*row) for row in rows]


async def get_rule(conn: Conn, *, rule_id: int) -> Rule | None:
    row = await conn.fetchrow(
        "SELECT " + _RULE_COLUMNS + " FROM instance_rules WHERE id = $1", rule_id
    )
    return Rule(*row) if row else None


async def insert_rule(conn: Conn, *, text: str) -> Rule:
    """A rule after the last one."""
    row = await conn.fetchrow(
        "INSERT INTO instance_rules (position, text) SELECT coalesce(max(position) + 1, 0), $1"
        " FROM instance_rules RETURNING " + _RULE_COLUMNS,
        text,
    )
    assert row is not None  # noqa: S101 - INSERT ... SELECT of an aggregate: one row
    return Rule(*row)


async def update_rule_text(conn: Conn, *, rule_id: int, text: str) -> Rule | None:
    row = await conn.fetchrow(
        "UPDATE instance_rules SET text = $2, updated_at = now() WHERE id = $1"
        " RETURNING " + _RULE_COLUMNS,
        rule_id,
        text,
    )
    return Rule(*row) if row else None


async def set_positions(conn: Conn, *, ids: list[int]) -> None:
    """Number the rules 0, 1, 2... in the order of `ids`."""
    await conn.execute(
        "UPDATE instance_rules r SET position = o.position - 1, updated_at = now()"
        " FROM unnest($1::bigint[]) WITH ORDINALITY AS o(id, position) WHERE r.id = o.id",
        ids,
    )


async def delete_rule(conn: Conn, *, rule_id: int) -> Rule | None:
    row = await conn.fetchrow(
        "DELETE FROM instance_rules WHERE id = $1 RETURNING " + _RULE_COLUMNS, rule_id
    )
    return Rule(*row) if row else None


async def get_settings(conn: Conn) -> StoredSettings:
    row = await conn.fetchrow(
        "SELECT name, description, contact_email, registrations, show_domain_blocks"
        " FROM instance_settings"
    )
    if row is None:
        return StoredSettings(None, None, None, None, False)
    return StoredSettings(*row)


async def put_settings(conn: Conn, settings: StoredSettings) -> None:
    await conn.execute(
        "INSERT INTO instance_settings (id, name, description, contact_email, registrations,"
        " show_domain_blocks) VALUES (true, $1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET"
        " name = EXCLUDED.name, description = EXCLUDED.description,"
        " contact_email = EXCLUDED.contact_email, registrations = EXCLUDED.registrations,"
        " show_domain_blocks = EXCLUDED.show_domain_blocks, updated_at = now()",
        settings.name,
        settings.description,
        settings.contact_email,
        settings.registrations,
        settings.show_domain_blocks,
    )
