"""The instance's name, description, contact address, registrations mode and whether
/about lists the domain blocks, as admins set them live (issue 17); instance.toml's
[instance] values are the defaults. Every reader (pages, NodeInfo, the instance actor,
sign-up, the API) asks `current` or `effective_instance`.

Each process keeps what it read for TTL_SECONDS (a home page costs a dict look-up, not
a query); the process that saves a change forgets its copy at once, the others see it
within TTL_SECONDS.
"""

from __future__ import annotations

import dataclasses
import re
import time
from dataclasses import dataclass
from typing import Any

from stgy.config import InstanceConfig
from stgy.domain import audit, roles
from stgy.domain.errors import Invalid
from stgy.domain.roles import Staff
from stgy.services import Services
from storage import instance_admin as admin_sql
from storage.instance_admin import StoredSettings

TTL_SECONDS = 5.0
FIELDS = ("name", "description", "contact_email", "registrations")
REGISTRATIONS = ("open", "approval", "closed")
MAX_NAME = 100
MAX_DESCRIPTION = 5000
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
_CACHE_MAX = 64


@dataclass(frozen=True)
class InstanceSettings:
    name: str
    description: str
    contact_email: str
    registrations: str  # open | approval | closed
    show_domain_blocks: bool
    overridden: tuple[str, ...]  # of FIELDS, those set here rather than in instance.toml
    instance: InstanceConfig  # the [instance] config with these values


_CACHE: dict[tuple[str, InstanceConfig], tuple[float, InstanceSettings]] = {}


def _effective(base: InstanceConfig, stored: StoredSettings) -> InstanceSettings:
    changed = {f: getattr(stored, f) for f in FIELDS if getattr(stored, f) is not None}
    instance = dataclasses.replace(base, **changed) if changed else base
    return InstanceSettings(
        instance.name,
        instance.description,
        instance.contact_email,
        instance.registrations,
        stored.show_domain_blocks,
        tuple(changed),
        instance,
    )


async def current(services: Services) -> InstanceSettings:
    """The settings in force (at most TTL_SECONDS old in another process)."""
    key = (services.config.namespace, services.config.instance)
    cached = _CACHE.get(key)
    now = time.monotonic()
    if cached is not None and now - cached[0] < TTL_SECONDS:
        return cached[1]
    async with services.pool.acquire() as conn:
        stored = await admin_sql.get_settings(conn)
    found = _effective(services.config.instance, stored)
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.clear()
    _CACHE[key] = (now, found)
    return found


async def effective_instance(services: Services) -> InstanceConfig:
    """instance.toml's [instance] section with what admins changed."""
    return (await current(services)).instance


def forget(services: Services) -> None:
    """Drop this process's copy (after a change)."""
    for key in [k for k in _CACHE if k[0] == services.config.namespace]:
        _CACHE.pop(key, None)


def _check(name: str, value: Any) -> Any:
    if value is None:
        return None  # back to instance.toml's value
    if name == "show_domain_blocks":
        if not isinstance(value, bool):
            raise Invalid(name, "true or false")
        return value
    if not isinstance(value, str):
        raise Invalid(name, "must be text")
    value = value.strip()
    if name == "name" and not value:
        raise Invalid(name, "required")
    if name == "name" and len(value) > MAX_NAME:
        raise Invalid(name, f"at most {MAX_NAME} characters")
    if name == "description" and len(value) > MAX_DESCRIPTION:
        raise Invalid(name, f"at most {MAX_DESCRIPTION} characters")
    if name == "contact_email" and not _EMAIL.fullmatch(value):
        raise Invalid(name, "not an email address")
    if name == "registrations" and value not in REGISTRATIONS:
        raise Invalid(name, f"one of {', '.join(REGISTRATIONS)}")
    return value


async def update(services: Services, staff: Staff, changes: dict[str, Any]) -> InstanceSettings:
    """Change some settings (None: back to instance.toml's value); one audit row naming
    what changed, in the same transaction."""
    roles.require(staff, roles.ADMIN)
    unknown = sorted(set(changes) - {*FIELDS, "show_domain_blocks"})
    if unknown:
        raise Invalid(unknown[0], "not an instance setting")
    checked = {name: _check(name, value) for name, value in changes.items()}
    if checked.get("show_domain_blocks", False) is None:
        checked["show_domain_blocks"] = False
    async with services.pool.acquire() as conn, conn.transaction():
        before = await admin_sql.get_settings(conn)
        after = dataclasses.replace(before, **checked)
        if after != before:
            await admin_sql.put_settings(conn, after)
            await audit.record(
                conn,
                staff,
                "instance.settings",
                "instance",
                services.config.instance.domain,
                details={
                    name: {"before": getattr(before, name), "after": getattr(after, name)}
                    for name in checked
                    if getattr(before, name) != getattr(after, name)
                },
            )
    forget(services)
    return _effective(services.config.instance, after)
