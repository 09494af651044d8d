"""The audit log is append-only and readable by admins only; roles are checked in the
domain."""

from __future__ import annotations

import asyncpg
import pytest

from stgy.domain import audit, roles
from stgy.domain.errors import Forbidden, Invalid
from stgy.services import Services


async def test_rows_are_written_read_newest_first_and_never_changed(services: Services) -> None:
    admin = roles.Staff(None, "cli", roles.ADMIN)
    target = f"audit-{id(services)}"
    async with services.pool.acquire() as conn:
        first = await audit.record(conn, admin, "account.warn", "account", target, comment="a")
        second = await audit.record(
            conn, admin, "account.suspend", "account", target, details={"days": 30}
        )
    found = await audit.entries(services, admin, target_type="account", target=target)
    assert [e.id for e in found] == [second, first]
    assert found[0].details == {"days": 30} and found[1].comment == "a"
    assert found[0].actor == "cli" and found[0].actor_account_id is None
    older = await audit.entries(
        services, admin, before=second, target_type="account", target=target
    )
    assert [e.id for e in older] == [first]
    async with services.pool.acquire() as conn:
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await conn.execute("UPDATE audit_log SET comment = 'x' WHERE id = $1", first)
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await conn.execute("DELETE FROM audit_log WHERE id = $1", first)


async def test_only_admins_read_the_log_and_roles_nest(services: Services) -> None:
    moderator = roles.Staff(1, "mod", roles.MODERATOR)
    with pytest.raises(Forbidden):
        await audit.entries(services, moderator)
    assert roles.may("admin", roles.MODERATOR) and roles.may("moderator", roles.MODERATOR)
    assert not roles.may("moderator", roles.ADMIN) and not roles.may("user", roles.MODERATOR)
    with pytest.raises(Forbidden):
        roles.require(roles.Staff(2, "u", "user"), roles.MODERATOR)
    with pytest.raises(Invalid):
        roles.check_role("owner")
